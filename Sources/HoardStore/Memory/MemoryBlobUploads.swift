import Foundation
import NIOCore
import Synchronization

/// Upload sessions held in memory (they end with the process).
final class MemoryBlobUploads: BlobUploads {
    private struct Session {
        var metadata: [UInt8]
        var bytes: [UInt8] = []
        var lastModified = Date()
    }
    private let sessions = Mutex<[UploadID: Session]>([:])
    private let table: MemoryBlobTable

    init(table: MemoryBlobTable) {
        self.table = table
    }

    func create(metadata: [UInt8]) async throws(StoreError) -> UploadID {
        let id = UploadID.random()
        sessions.withLock { $0[id] = Session(metadata: metadata) }
        return id
    }

    func info(_ id: UploadID) async throws(StoreError) -> UploadInfo? {
        sessions.withLock { sessions in
            sessions[id].map { UploadInfo(id: id, metadata: $0.metadata, size: Int64($0.bytes.count), lastModified: $0.lastModified) }
        }
    }

    func appender(_ id: UploadID) async throws(StoreError) -> any UploadAppender {
        guard let size = sessions.withLock({ $0[id].map { Int64($0.bytes.count) } }) else { throw .uploadNotFound(id.value) }
        return MemoryUploadAppender(uploads: self, id: id, size: size)
    }

    func makeWriter<H: UploadHasher>(
        from id: UploadID, expectedDigest: BlobDigest?, expectedSize: Int64?, hashing hasher: inout H
    ) async throws(StoreError) -> any BlobWriter {
        guard let bytes = sessions.withLock({ $0[id]?.bytes }) else { throw .uploadNotFound(id.value) }
        let writer = MemoryBlobWriter(table: table, expectedDigest: expectedDigest, expectedSize: expectedSize)
        var failure: StoreError?
        bytes.withUnsafeBytes { raw in
            do throws(StoreError) { try writer.writeBlocking(raw) } catch { failure = error }
            hasher.update(bufferPointer: raw)
        }
        if let failure { throw failure }
        return writer
    }

    func remove(_ id: UploadID) async throws(StoreError) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }

    func list() async throws(StoreError) -> [UploadEntry] {
        sessions.withLock { sessions in
            sessions.map { UploadEntry(id: $0.key, size: Int64($0.value.bytes.count), lastModified: $0.value.lastModified) }
        }
    }

    /// Appends to a session; `.uploadNotFound` once it is gone.
    func append(_ buffer: ByteBuffer, to id: UploadID) throws(StoreError) -> Int64 {
        try sessions.withLock { sessions throws(StoreError) -> Int64 in
            guard var session = sessions.removeValue(forKey: id) else { throw .uploadNotFound(id.value) }
            // Taken out of the table while it grows, so the append does not copy the bytes.
            session.bytes.append(contentsOf: buffer.readableBytesView)
            session.lastModified = Date()
            sessions[id] = session
            return Int64(session.bytes.count)
        }
    }
}

final class MemoryUploadAppender: UploadAppender, @unchecked Sendable {
    // One request owns an appender: `size` is never touched by two tasks at once.
    private(set) var size: Int64
    private let uploads: MemoryBlobUploads
    private let id: UploadID

    init(uploads: MemoryBlobUploads, id: UploadID, size: Int64) {
        self.uploads = uploads
        self.id = id
        self.size = size
    }

    func append(_ buffer: ByteBuffer) async throws(StoreError) {
        size = try uploads.append(buffer, to: id)
    }
}
