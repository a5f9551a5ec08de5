import Foundation
import NIOCore

/// Upload sessions: bytes a client sends in several requests (OCI chunked uploads), kept by the
/// backend until they are turned into a blob or removed.
///
/// A session has opaque metadata (the caller's: an OCI repository), a size, and the time bytes
/// last reached it (for expiry, which is the caller's policy). Sessions are never blobs: nothing
/// reads them by digest, and their bytes reach a blob only through `makeWriter(from:)`, whose
/// commit verifies them like any ingest. One request at a time works on a session: appending
/// from two at once is the caller's to prevent.
public protocol BlobUploads: Sendable {
    /// Opens an empty session holding `metadata`.
    func create(metadata: [UInt8]) async throws(StoreError) -> UploadID
    /// The session's metadata, size and last change; nil when there is none (finished,
    /// removed or expired).
    func info(_ id: UploadID) async throws(StoreError) -> UploadInfo?
    /// An appender adding bytes at the end of the session; `.uploadNotFound` when it is gone.
    func appender(_ id: UploadID) async throws(StoreError) -> any UploadAppender
    /// A blob writer that already holds the session's bytes, copied (and hashed by the writer,
    /// and by `hasher` too) off the cooperative pool. The caller may write more, then commits or
    /// cancels it; the session itself is left as it is (remove it once the blob is committed).
    func makeWriter<H: UploadHasher>(
        from id: UploadID, expectedDigest: BlobDigest?, expectedSize: Int64?, hashing hasher: inout H
    ) async throws(StoreError) -> any BlobWriter
    /// Removes a session and its bytes; removing an absent session is not an error.
    func remove(_ id: UploadID) async throws(StoreError)
    /// Removes a session the caller saw holding no bytes (a monolithic upload): a backend may
    /// skip looking for its bytes. Bytes an append racing this left go when they expire.
    func removeEmpty(_ id: UploadID) async throws(StoreError)
    /// Every session, with its size and last change (no metadata).
    func list() async throws(StoreError) -> [UploadEntry]
}

extension BlobUploads {
    public func removeEmpty(_ id: UploadID) async throws(StoreError) {
        try await remove(id)
    }

    /// `makeWriter(from:…)` when no second digest is wanted.
    public func makeWriter(from id: UploadID, expectedDigest: BlobDigest?, expectedSize: Int64? = nil) async throws(StoreError) -> any BlobWriter {
        var none = NoUploadHasher()
        return try await makeWriter(from: id, expectedDigest: expectedDigest, expectedSize: expectedSize, hashing: &none)
    }
}

/// Adds bytes at the end of one session, for one request (not shared between tasks).
public protocol UploadAppender: AnyObject, Sendable {
    /// The session's size including what this appender added.
    var size: Int64 { get }
    /// Appends `buffer`; off the cooperative pool where it blocks. A full disk is `.diskFull`.
    func append(_ buffer: ByteBuffer) async throws(StoreError)
}

/// A second hash of the bytes copied from a session into a blob (the store names blobs by
/// sha256; a client may name the blob by another digest, e.g. sha512). It is fed on the thread
/// that copies, hence a value type handed in and out.
public protocol UploadHasher: Sendable {
    mutating func update(bufferPointer: UnsafeRawBufferPointer)
}

extension Optional: UploadHasher where Wrapped: UploadHasher {
    public mutating func update(bufferPointer: UnsafeRawBufferPointer) {
        self?.update(bufferPointer: bufferPointer)
    }
}

/// The hasher of a copy that wants none.
public struct NoUploadHasher: UploadHasher {
    public init() {}
    public func update(bufferPointer: UnsafeRawBufferPointer) {}
}

/// The name of an upload session: a random UUID in lowercase canonical form. Text from a
/// request becomes an id only when it is exactly that form, so an id is safe as a file name.
public struct UploadID: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    /// nil unless `text` is a UUID in lowercase canonical form.
    public init?(_ text: some StringProtocol) {
        guard let uuid = UUID(uuidString: String(text)), uuid.uuidString.lowercased() == text else { return nil }
        value = String(text)
    }

    init(uuid: UUID) { value = uuid.uuidString.lowercased() }

    static func random() -> UploadID { UploadID(uuid: UUID()) }

    public var description: String { value }
}

/// What `info` says about one session.
public struct UploadInfo: Sendable, Equatable {
    public let id: UploadID
    public let metadata: [UInt8]
    /// Bytes received so far.
    public let size: Int64
    /// When bytes last reached it (its creation when none did).
    public let lastModified: Date

    /// For backends in other modules (the S3 one).
    public init(id: UploadID, metadata: [UInt8], size: Int64, lastModified: Date) {
        self.id = id
        self.metadata = metadata
        self.size = size
        self.lastModified = lastModified
    }
}

/// One session of `list`.
public struct UploadEntry: Sendable, Equatable {
    public let id: UploadID
    public let size: Int64
    public let lastModified: Date

    /// For backends in other modules (the S3 one).
    public init(id: UploadID, size: Int64, lastModified: Date) {
        self.id = id
        self.size = size
        self.lastModified = lastModified
    }
}
