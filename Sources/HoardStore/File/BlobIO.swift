import Dispatch
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// The threads the file backend blocks on, owned by the store (never Swift's cooperative pool,
/// which runs requests on as few threads as there are cores).
///
/// Two pools, so that a slow `fsync` of a large blob never holds up reads:
/// - `reads`: every `pread`, `write`, `open` and `stat`. Mostly page-cache hits of a few
///   microseconds, occasionally a disk wait: 8 threads (at least twice the cores) keep dozens of
///   concurrent streams fed while a few reads wait on the disk, without one thread per client.
/// - `durability`: commits (`fsync` of the file, rename, `fsync` of the directory), which can
///   take seconds for a large blob on a busy disk: 2 threads, so two commits overlap and a
///   burst of commits queues here instead of taking every thread.
///
/// Each is stopped when the last reader, writer or store that uses it goes away.
final class BlobIO: Sendable {
    let reads: NIOThreadPool
    let durability: NIOThreadPool

    init() {
        reads = NIOThreadPool(numberOfThreads: max(8, 2 * System.coreCount))
        durability = NIOThreadPool(numberOfThreads: 2)
        reads.start()
        durability.start()
    }

    deinit {
        // Nothing can submit work any more (nothing references us): let the threads finish.
        reads.shutdownGracefully(queue: .global()) { _ in }
        durability.shutdownGracefully(queue: .global()) { _ in }
    }

    /// Runs blocking file work on the read/write pool.
    func run<T: Sendable>(_ path: String, _ body: @escaping @Sendable () throws(StoreError) -> T) async throws(StoreError) -> T {
        try await Self.run(on: reads, path, body)
    }

    /// Runs a commit's blocking steps on the durability pool.
    func runDurable<T: Sendable>(_ path: String, _ body: @escaping @Sendable () throws(StoreError) -> T) async throws(StoreError) -> T {
        try await Self.run(on: durability, path, body)
    }

    static func run<T: Sendable>(
        on pool: NIOThreadPool, _ path: String, _ body: @escaping @Sendable () throws(StoreError) -> T
    ) async throws(StoreError) -> T {
        try await PoolWork.run(on: pool, "file I/O", path, body)
    }
}

/// Blocking work on a thread pool, its errors as `StoreError`: shared by the file backend's
/// pools and the S3 backend's spool pool.
public enum PoolWork {
    /// Runs `body` on `pool`. A pool that was shut down (the store is closing) is an `.io` error
    /// naming `operation` and `path`.
    public static func run<T: Sendable>(
        on pool: NIOThreadPool, _ operation: String, _ path: String, _ body: @escaping @Sendable () throws(StoreError) -> T
    ) async throws(StoreError) -> T {
        do {
            return try await pool.runIfActive { () throws -> T in try body() }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .io(operation: "\(operation) (store closing)", path: path, errno: ECANCELED)
        }
    }
}
