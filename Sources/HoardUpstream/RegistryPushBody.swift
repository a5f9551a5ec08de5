import AsyncHTTPClient
import HoardStore
import NIOCore

/// A request body sent from the store without holding it in memory: `length` bytes of a blob
/// from `offset` on, read in chunks as the connection takes them (a 100 MiB package costs one
/// chunk of memory, not 100 MiB). Small bodies (manifests) are plain bytes.
public struct UploadBody: Sendable {
    enum Source: Sendable {
        case bytes([UInt8])
        case blob(any BlobReader, offset: Int64)
    }

    let source: Source
    public let length: Int64

    public static func bytes(_ bytes: [UInt8]) -> UploadBody {
        UploadBody(source: .bytes(bytes), length: Int64(bytes.count))
    }

    /// `length` bytes of `reader` from `offset`; the caller keeps both within the blob.
    public static func blob(_ reader: any BlobReader, offset: Int64 = 0, length: Int64) -> UploadBody {
        UploadBody(source: .blob(reader, offset: offset), length: length)
    }

    /// A fresh body each time: a request retried after a challenge must send the bytes again.
    func makeClientBody() -> HTTPClientRequest.Body {
        switch source {
        case .bytes(let bytes): return .bytes(ByteBuffer(bytes: bytes))
        case .blob(let reader, let offset):
            return .stream(BlobChunks(reader: reader, offset: offset, end: offset + length), length: .known(length))
        }
    }
}

/// A blob range as an async sequence of 1 MiB buffers, read through `BlobReader` (whose file
/// backend reads on its own thread pool, never on the cooperative pool).
struct BlobChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let reader: any BlobReader
    let offset: Int64
    let end: Int64
    static let chunk = 1 << 20

    struct AsyncIterator: AsyncIteratorProtocol {
        let reader: any BlobReader
        var position: Int64
        let end: Int64

        mutating func next() async throws -> ByteBuffer? {
            guard position < end else { return nil }
            let count = Int(Swift.min(Int64(BlobChunks.chunk), end - position))
            let buffer = try await reader.read(at: position, count: count)
            // A blob shorter than its size promised: stop with an error, never send a short body
            // under a Content-Length that promises more.
            guard buffer.readableBytes > 0 else { throw StoreError.sizeMismatch(expected: end, actual: position) }
            position += Int64(buffer.readableBytes)
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(reader: reader, position: offset, end: end) }
}
