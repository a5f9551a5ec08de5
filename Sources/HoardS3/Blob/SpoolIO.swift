import HoardStore
import NIOCore
import NIOPosix

/// The threads the S3 backend blocks on: the local spool (HoardStore's `ScratchFile`s: every
/// ingest's bytes, which the tee's tail readers read, and the temporary copies that
/// `withContiguousBytes` maps) and the hashing of what is written. Never Swift's cooperative pool, which answers requests on as few
/// threads as there are cores. Four threads at least: a few ingests and tail readers at once,
/// each step a page-cache write or read of at most one part. Stopped when the last user goes.
final class SpoolIO: Sendable {
    let pool: NIOThreadPool
    /// Runs the async work a blocking caller waits for (`BlockingBridge`) on the pool's threads,
    /// so that it never needs a thread of the cooperative pool the caller may be blocking.
    let executor: PoolTaskExecutor

    init() {
        pool = NIOThreadPool(numberOfThreads: max(4, System.coreCount))
        pool.start()
        executor = PoolTaskExecutor(pool: pool)
    }

    deinit {
        pool.shutdownGracefully(queue: .global()) { _ in }
    }

    /// Runs blocking file work (or hashing) on the pool.
    func run<T: Sendable>(_ path: String, _ body: @escaping @Sendable () throws(StoreError) -> T) async throws(StoreError) -> T {
        try await PoolWork.run(on: pool, "spool I/O", path, body)
    }
}

/// A task executor over a thread pool: each job runs on one of its threads.
final class PoolTaskExecutor: TaskExecutor {
    private let pool: NIOThreadPool

    init(pool: NIOThreadPool) {
        self.pool = pool
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        pool.submit { _ in job.runSynchronously(on: executor) }
    }
}
