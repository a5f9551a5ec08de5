import HoardOCI
import HoardStore
import NIOCore

/// Feeds bytes to the store's writer and, for a digest of another algorithm (sha512), to a second
/// hasher: the store names blobs by sha256, the client may have asked for sha512.
struct VerifyingSink {
    let writer: any BlobWriter
    private var hasher: DigestHasher?
    let digest: OCIDigest

    /// A new, empty blob (a monolithic upload).
    init(store: Store, digest: OCIDigest) async throws(StoreError) {
        self.digest = digest
        writer = try await store.makeWriter(expectedDigest: try VerifyingSink.storeDigest(digest))
        hasher = VerifyingSink.secondHasher(digest)
    }

    /// A blob that starts with an upload session's bytes, which the store copies (hashing them)
    /// off the cooperative pool.
    init(uploads: any BlobUploads, session: UploadID, digest: OCIDigest) async throws(StoreError) {
        self.digest = digest
        var hasher = VerifyingSink.secondHasher(digest)
        writer = try await uploads.makeWriter(
            from: session, expectedDigest: try VerifyingSink.storeDigest(digest), expectedSize: nil, hashing: &hasher)
        self.hasher = hasher
    }

    mutating func write(_ buffer: ByteBuffer) async throws(StoreError) {
        try await writer.write(buffer)
        buffer.withUnsafeReadableBytes { hasher?.update(bufferPointer: $0) }
    }

    /// Verifies against the client's digest, then commits pinned. Nothing is kept on a mismatch.
    func commit(into store: Store) async throws -> BlobRecord {
        if let hasher {
            let actual = hasher.finalize()
            guard actual == digest else {
                writer.cancel()
                throw OCIError(.digestInvalid, "the uploaded bytes hash to \(actual), not \(digest); nothing was stored")
            }
        }
        return try await store.commit(writer, pinned: true)
    }

    func abort() { writer.cancel() }

    /// The sha256 the store checks itself; nil for another algorithm (the second hasher checks it).
    private static func storeDigest(_ digest: OCIDigest) throws(StoreError) -> BlobDigest? {
        digest.algorithm == .sha256 ? try BlobDigest(parsing: digest.hex) : nil
    }

    private static func secondHasher(_ digest: OCIDigest) -> DigestHasher? {
        digest.algorithm == .sha256 ? nil : DigestHasher(digest.algorithm)
    }
}

/// The client's second digest is fed where the store copies a session's bytes.
extension DigestHasher: UploadHasher {}
