import HoardStore
import Hummingbird
import NIOCore
import NIOPosix

/// Streams bytes of a file to a response in 256 KiB reads made on NIO's thread pool, so a slow
/// disk never blocks the threads that run requests; backpressure comes from the writer.
enum FileBody {
    static let chunkSize = 256 * 1024

    /// Writes `[start, end)` of `reader`.
    static func write(_ reader: FileReader, from start: Int64, to end: Int64, into writer: inout any ResponseBodyWriter) async throws {
        var offset = start
        while offset < end {
            let chunk = try await read(reader, at: offset, count: Int(min(Int64(chunkSize), end - offset)))
            guard chunk.readableBytes > 0 else { throw StoreError.sizeMismatch(expected: end, actual: offset) }
            offset += Int64(chunk.readableBytes)
            try await writer.write(chunk)
        }
    }

    static func read(_ reader: FileReader, at offset: Int64, count: Int) async throws -> ByteBuffer {
        try await NIOThreadPool.singleton.runIfActive {
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
                try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[..<count]), at: offset)
            }
            return buffer
        }
    }
}
