import Foundation
import HoardStore
import NIOCore

/// Upload sessions in the bucket, so that a session started on one node can be appended on a
/// second and finished on a third: `uploads/<id>/meta` holds the caller's metadata, and each
/// append is one object `uploads/<id>/part-<offset>` (written with `If-None-Match: *`, so two
/// appends racing for one offset cannot both land). A session's size is the sum of its parts;
/// its last change the newest of its objects. Nothing is cached on a node.
///
/// An append is one PUT: the protocol has each append visible when it returns (the next
/// request may land on another node), so parts are as large as the request's body chunks.
struct S3BlobUploads: BlobUploads {
    let context: S3BlobContext

    func create(metadata: [UInt8]) async throws(StoreError) -> UploadID {
        guard let id = UploadID(UUID().uuidString.lowercased()) else {
            throw .io(operation: "make an upload session id", path: S3BlobKeys.uploads, errno: EINVAL)
        }
        // A fresh random id: the condition only guards against a (practically impossible) clash.
        let stored = try await call { try await $0.put(S3BlobKeys.sessionMeta(id), body: ByteBuffer(bytes: metadata), condition: .ifNoneMatchAny) }
        guard stored != nil else { throw .unavailable(backend: "S3", reason: "upload session \(id) exists already") }
        return id
    }

    func info(_ id: UploadID) async throws(StoreError) -> UploadInfo? {
        let session = try await self.session(id)
        guard session.hasMeta else { return nil }
        guard let meta = try await call({ try await $0.getBytes(S3BlobKeys.sessionMeta(id), limit: 1 << 20) }) else { return nil }
        return UploadInfo(id: id, metadata: meta.bytes, size: session.size, lastModified: session.lastModified)
    }

    func appender(_ id: UploadID) async throws(StoreError) -> any UploadAppender {
        let session = try await self.session(id)
        guard session.hasMeta else { throw .uploadNotFound(id.value) }
        return S3UploadAppender(context: context, id: id, size: try session.contiguousSize())
    }

    func makeWriter<H: UploadHasher>(
        from id: UploadID, expectedDigest: BlobDigest?, expectedSize: Int64?, hashing hasher: inout H
    ) async throws(StoreError) -> any BlobWriter {
        let session = try await self.session(id)
        guard session.hasMeta else { throw .uploadNotFound(id.value) }
        _ = try session.contiguousSize()
        let writer = try S3BlobWriter(context: context, expectedDigest: expectedDigest, expectedSize: expectedSize)
        do {
            hasher = try await copy(session.parts, of: id, into: writer, hashing: hasher)
        } catch {
            writer.cancel()
            throw error
        }
        return writer
    }

    /// Streams the parts into the writer in chunks of about a megabyte (fewer hops to the spool
    /// pool than the GETs' own buffers), feeding `hasher` on the spool pool too.
    private func copy<H: UploadHasher>(
        _ parts: [S3ObjectSummary], of id: UploadID, into writer: S3BlobWriter, hashing start: H
    ) async throws(StoreError) -> H {
        var hasher = start
        var chunk = ByteBuffer()
        let hashes = H.self != NoUploadHasher.self
        func flush() async throws(StoreError) {
            guard chunk.readableBytes > 0 else { return }
            let bytes = chunk
            chunk = ByteBuffer()
            try await writer.write(bytes)
            if hashes {
                let before = hasher
                hasher = try await context.io.run(S3BlobKeys.session(id)) { () throws(StoreError) -> H in
                    var hasher = before
                    bytes.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                    return hasher
                }
            }
        }
        for part in parts {
            guard let download = try await call({ try await $0.get(part.key) }) else { throw .uploadNotFound(id.value) }
            do {
                for try await var buffer in download.body {
                    chunk.writeBuffer(&buffer)
                    if chunk.readableBytes >= 1 << 20 { try await flush() }
                }
            } catch let error as StoreError {
                throw error
            } catch {
                throw S3BlobReader.transport(error, key: part.key)
            }
        }
        try await flush()
        return hasher
    }

    func remove(_ id: UploadID) async throws(StoreError) {
        let session = try await self.session(id)
        // The metadata first: from then on the session is gone for `info` and `appender`.
        let keys = session.objects.map(\.key)
        try await deleteAll(keys.filter { $0.hasSuffix("/meta") })
        try await deleteAll(keys.filter { !$0.hasSuffix("/meta") })
    }

    /// Only the metadata: no listing (one request fewer per monolithic push). A part an append
    /// racing this wrote is listed by `list()` as a session without metadata, and expires.
    func removeEmpty(_ id: UploadID) async throws(StoreError) {
        try await call { try await $0.delete(S3BlobKeys.sessionMeta(id)) }
    }

    func list() async throws(StoreError) -> [UploadEntry] {
        let objects = try await call { try await $0.list(prefix: S3BlobKeys.uploads) }
        var sessions: [UploadID: Session] = [:]
        for object in objects {
            guard let kind = S3BlobKeys.sessionObject(object.key) else { continue }
            let id: UploadID
            switch kind {
            case .meta(let owner), .part(let owner, _), .other(let owner): id = owner
            }
            sessions[id, default: Session()].add(object, kind)
        }
        // A session missing its metadata (an append racing a remove) is listed too, as empty
        // parts and all, so that expiry removes it.
        return sessions.map { UploadEntry(id: $0.key, size: $0.value.size, lastModified: $0.value.lastModified) }
    }

    /// Deletes keys, a few at a time.
    private func deleteAll(_ keys: [String]) async throws(StoreError) {
        let client = context.client
        var remaining = keys[...]
        while !remaining.isEmpty {
            let batch = remaining.prefix(16)
            remaining = remaining.dropFirst(batch.count)
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for key in batch {
                        group.addTask { try await client.delete(key) }
                    }
                    try await group.waitForAll()
                }
            } catch let error as S3Error {
                throw error.storeError
            } catch {
                throw .unavailable(backend: "S3", reason: "\(error)")
            }
        }
    }

    /// What the bucket holds for one session.
    private func session(_ id: UploadID) async throws(StoreError) -> Session {
        let objects = try await call { try await $0.list(prefix: S3BlobKeys.session(id)) }
        var session = Session()
        for object in objects {
            guard let kind = S3BlobKeys.sessionObject(object.key) else { continue }
            session.add(object, kind)
        }
        return session
    }

    private func call<T>(_ body: (S3Client) async throws -> T) async throws(StoreError) -> T {
        try await context.call(body)
    }
}

/// One session's objects, as a listing gave them.
private struct Session {
    var objects: [S3ObjectSummary] = []
    var hasMeta = false
    var parts: [S3ObjectSummary] = []
    var offsets: [Int64] = []
    var lastModified = Date.distantPast

    var size: Int64 { parts.reduce(0) { $0 + $1.size } }

    mutating func add(_ object: S3ObjectSummary, _ kind: S3BlobKeys.SessionObject) {
        objects.append(object)
        if let modified = object.lastModified, modified > lastModified { lastModified = modified }
        switch kind {
        case .meta: hasMeta = true
        case .part(_, let offset):
            // Listings come in key order, which is offset order (20 digits, zero-padded).
            parts.append(object)
            offsets.append(offset)
        case .other: break
        }
    }

    /// The size, checking that each part starts where the one before ended.
    func contiguousSize() throws(StoreError) -> Int64 {
        var expected: Int64 = 0
        for (part, offset) in zip(parts, offsets) {
            guard offset == expected else {
                throw .io(operation: "upload session (a part is missing before byte \(offset))", path: part.key, errno: EIO)
            }
            expected += part.size
        }
        return expected
    }
}

/// Appends to one session: each append is one conditional PUT of a part at the session's end.
final class S3UploadAppender: UploadAppender, @unchecked Sendable {
    // One request owns an appender: `size` is never touched by two tasks at once.
    private(set) var size: Int64
    private let context: S3BlobContext
    private let id: UploadID

    init(context: S3BlobContext, id: UploadID, size: Int64) {
        self.context = context
        self.id = id
        self.size = size
    }

    func append(_ buffer: ByteBuffer) async throws(StoreError) {
        guard buffer.readableBytes > 0 else { return }
        let key = S3BlobKeys.sessionPart(id, offset: size)
        let stored: String?
        do { stored = try await context.client.put(key, body: buffer, condition: .ifNoneMatchAny) } catch { throw error.storeError }
        guard stored != nil else {
            // Another request (on another node) appended at this offset at the same time.
            throw .unavailable(backend: "S3", reason: "another request appended to upload session \(id) at byte \(size) at the same time")
        }
        size += Int64(buffer.readableBytes)
    }
}
