import HoardConda
import HoardStore
import HoardUpstream
import NIOCore
import NIOPosix

/// Decompresses a zstd document into a second blob while its body streams in, stopping at
/// `limit` bytes of output: a small file that expands to gigabytes (a decompression bomb) is
/// refused after at most `limit` bytes were written to a temp file, and neither the compressed
/// nor the decompressed bytes of a document that fails are ever committed.
///
/// Used by one ingest at a time, one chunk after the other (hence `@unchecked Sendable`: the
/// decompressor's C state moves between the task and the worker thread, never shared).
final class StreamingInflater: @unchecked Sendable {
    private let decompressor: ZstdDecompressor
    let writer: any BlobWriter
    let limit: Int64
    let url: String

    init(store: Store, limit: Int64, url: String) async throws {
        decompressor = try ZstdDecompressor(maxOutput: Int(clamping: limit))
        writer = try await store.makeWriter()
        self.limit = limit
        self.url = url
    }

    /// Decompresses one compressed chunk on `worker` (the document pool: CPU work stays off the
    /// threads that answer requests).
    func feed(_ chunk: ByteBuffer, on worker: NIOThreadPool) async throws {
        try await worker.runIfActive {
            do {
                try chunk.withUnsafeReadableBytes { input in
                    try self.decompressor.decompress(input) { output in try self.writer.writeBlocking(output) }
                }
            } catch {
                throw self.describe(error)
            }
        }
    }

    /// Checks that the input ended on a frame boundary (a truncated .zst is refused).
    func finish() throws {
        do { try decompressor.finish() } catch { throw describe(error) }
    }

    func cancel() { writer.cancel() }

    private func describe(_ error: any Error) -> any Error {
        switch error {
        case ZstdError.outputLimitExceeded: return UpstreamError.documentTooLarge(url: url, limit: limit)
        case let error as StoreError: return error
        default: return UpstreamError.integrity(url: url, detail: "the zstd document does not decompress: \(error)")
        }
    }
}
