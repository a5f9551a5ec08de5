import HoardStore
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The parts of one multipart upload, read back from the ingest's spool file and uploaded in
/// the background (`concurrency` at a time), so that an ingest (and a pull-through's client reading its
/// spool) goes at the speed of its source rather than of the bucket. Memory holds at most
/// `concurrency` parts; the spool holds the rest until they go.
///
/// Parts are handed over in order (`send`); `finish()` waits for all of them and returns them
/// for the completion; the first failure ends the whole upload (`failure`, and `finish()` throws it).
final class PartUploads: Sendable {
    /// One at a time: measured on a two-core node with SeaweedFS beside it, a cold 100 MiB
    /// pull-through's client got its bytes in 0.67-0.86 s with one part in flight, 1.0 s with
    /// two or three (the uploads then compete with the ingest for the CPU). The client no
    /// longer waits for the parts either way; only the commit does.
    static let concurrency = 1

    struct Part: Sendable {
        let number: Int
        let offset: Int64
        let count: Int
    }

    private let continuation: AsyncStream<Part>.Continuation
    private let task: Task<[S3CompletedPart], any Error>
    private let failed = FirstFailure()

    /// Set by the upload task, read by the writer.
    private final class FirstFailure: Sendable {
        let error = Mutex<StoreError?>(nil)
    }

    init(key: String, uploadID: String, file: ScratchFile, context: S3BlobContext) {
        let (parts, continuation) = AsyncStream.makeStream(of: Part.self)
        self.continuation = continuation
        let failed = failed
        task = Task {
            do {
                return try await withThrowingTaskGroup(of: S3CompletedPart.self) { group in
                    var done: [S3CompletedPart] = []
                    var running = 0
                    for await part in parts {
                        if running == Self.concurrency, let finished = try await group.next() {
                            done.append(finished)
                            running -= 1
                        }
                        group.addTask { try await Self.upload(part, key: key, uploadID: uploadID, file: file, context: context) }
                        running += 1
                    }
                    for try await finished in group { done.append(finished) }
                    return done.sorted { $0.partNumber < $1.partNumber }
                }
            } catch {
                let reported = (error as? StoreError) ?? .unavailable(backend: "S3", reason: "\(error)")
                failed.error.withLock { $0 = reported }
                throw reported
            }
        }
    }

    /// The first part that failed, once one did: the ingest should stop.
    var failure: StoreError? { failed.error.withLock { $0 } }

    /// Queues the next part (numbers in order, from 1).
    func send(_ part: Part) {
        continuation.yield(part)
    }

    /// Waits for every part queued; their numbers and ETags, in order.
    func finish() async throws(StoreError) -> [S3CompletedPart] {
        continuation.finish()
        do {
            return try await task.value
        } catch {
            throw (error as? StoreError) ?? .unavailable(backend: "S3", reason: "\(error)")
        }
    }

    /// Stops: queued parts are not sent, parts in flight are cancelled; returns once none runs
    /// (so that an abort of the upload comes after its last part).
    func cancel() async {
        continuation.finish()
        task.cancel()
        _ = try? await task.value
    }

    private static func upload(_ part: Part, key: String, uploadID: String, file: ScratchFile, context: S3BlobContext) async throws -> S3CompletedPart {
        try Task.checkCancellation()
        let body = try await context.io.run(file.path) { () throws(StoreError) in try file.read(at: part.offset, count: part.count) }
        guard body.readableBytes == part.count else { throw StoreError.io(operation: "spool read", path: file.path, errno: EIO) }
        let etag = try await context.call { try await $0.uploadPart(key, uploadID: uploadID, partNumber: part.number, body: body) }
        return S3CompletedPart(partNumber: part.number, etag: etag)
    }
}
