import NIOCore

/// Positional reads of one blob; any number of concurrent readers may share one.
///
/// A reader opened on a committed blob reads those bytes to the end, even if the blob is deleted
/// (evicted) meanwhile. A tail reader (`BlobWriter.makeTailReader()`) follows a blob still being
/// written: its `digest` and `size` say nothing then; read only up to what the writer wrote.
public protocol BlobReader: Sendable {
    var digest: BlobDigest { get }
    /// The size of the blob when it was opened.
    var size: Int64 { get }
    /// `count` bytes at `offset`, fewer only at the end of the blob. Never blocks the calling
    /// thread (a file backend reads on its own thread pool).
    func read(at offset: Int64, count: Int) async throws(StoreError) -> ByteBuffer
    /// The whole blob as contiguous bytes (mapped, for a file), for parsing large documents
    /// without copying them. BLOCKING: call it on a worker thread pool, never on the threads that
    /// answer requests.
    func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R
    /// A handle on a local file holding exactly this blob's bytes, for sendfile; nil when the
    /// backend keeps no local file, or when the store no longer holds the blob (deleted or evicted
    /// since this reader was opened: a cache of readers learns here that it must reopen).
    /// Cheap enough for an event loop (a dup and an fstat for files). The caller owns (and must
    /// close) the handle.
    func fileHandle() throws(StoreError) -> NIOFileHandle?
}

extension BlobReader {
    /// Reads a small blob whole (documents the server keeps in memory, manifests), never a
    /// package: more than `limit` bytes is refused.
    public func readAll(limit: Int64) async throws(StoreError) -> [UInt8] {
        guard size <= limit else { throw .sizeMismatch(expected: limit, actual: size) }
        var buffer = try await readBuffer()
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// The whole blob in one buffer (small blobs only: check `size` first).
    public func readBuffer() async throws(StoreError) -> ByteBuffer {
        guard let count = Int(exactly: size) else { throw .sizeMismatch(expected: Int64(Int.max), actual: size) }
        let buffer = try await read(at: 0, count: count)
        guard buffer.readableBytes == count else { throw .sizeMismatch(expected: size, actual: Int64(buffer.readableBytes)) }
        return buffer
    }
}
