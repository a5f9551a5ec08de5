import HoardStore
import Hummingbird
import NIOCore

/// Streams bytes of a blob to a response in 256 KiB reads (the store reads on its own thread
/// pool, so a slow disk never blocks the threads that run requests); backpressure comes from the
/// writer.
enum FileBody {
    static let chunkSize = 256 * 1024

    /// Writes `[start, end)` of `reader`.
    static func write(_ reader: any BlobReader, from start: Int64, to end: Int64, into writer: inout any ResponseBodyWriter) async throws {
        var offset = start
        while offset < end {
            let chunk = try await reader.read(at: offset, count: Int(min(Int64(chunkSize), end - offset)))
            guard chunk.readableBytes > 0 else { throw StoreError.sizeMismatch(expected: end, actual: offset) }
            offset += Int64(chunk.readableBytes)
            try await writer.write(chunk)
        }
    }
}
