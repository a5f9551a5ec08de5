import NIOCore
import Synchronization

/// Positional reads of a committed blob held in memory. It holds the bytes, so a delete of the
/// blob does not cut it short.
final class MemoryBlobReader: BlobReader {
    let digest: BlobDigest
    private let bytes: [UInt8]

    init(digest: BlobDigest, bytes: [UInt8]) {
        self.digest = digest
        self.bytes = bytes
    }

    var size: Int64 { Int64(bytes.count) }

    func read(at offset: Int64, count: Int) async throws(StoreError) -> ByteBuffer {
        try MemoryBytes.slice(bytes, at: offset, count: count)
    }

    func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try bytes.withUnsafeBytes(body)
    }

    func fileHandle() throws(StoreError) -> NIOFileHandle? { nil }
}

/// Reads an ingest while it is written (the pull-through tee): whatever the writer has
/// appended so far, and, after the commit, the whole blob.
final class MemoryTailReader: BlobReader {
    let digest: BlobDigest
    private let ingest: MemoryIngest

    init(digest: BlobDigest, ingest: MemoryIngest) {
        self.digest = digest
        self.ingest = ingest
    }

    /// What has been written so far.
    var size: Int64 { ingest.count }

    func read(at offset: Int64, count: Int) async throws(StoreError) -> ByteBuffer {
        try ingest.read(at: offset, count: count)
    }

    func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try ingest.withBytes(body)
    }

    func fileHandle() throws(StoreError) -> NIOFileHandle? { nil }
}

enum MemoryBytes {
    /// `count` bytes at `offset`, fewer at the end, none past it (as `pread` gives); a negative
    /// offset is an error, as it is for `pread`.
    static func slice(_ bytes: [UInt8], at offset: Int64, count: Int) throws(StoreError) -> ByteBuffer {
        guard count > 0 else { return ByteBuffer() }
        guard offset >= 0 else { throw .rangeNotSatisfiable(size: Int64(bytes.count)) }
        guard offset < Int64(bytes.count) else { return ByteBuffer() }
        let start = Int(offset)
        let end = start + min(count, bytes.count - start)
        return ByteBuffer(bytes: bytes[start..<end])
    }
}
