import Crypto
// Re-exported: BlobDigest is in every signature of the store's API.
@_exported import HoardDigest

/// The store names blobs by sha256 alone: `BlobDigest` (HoardDigest) is the one digest type.
extension BlobDigest {
    /// Accepts `<64 hex>` or `sha256:<64 hex>`; hex must be lowercase, as in OCI and conda.
    public init(parsing text: some StringProtocol) throws(StoreError) {
        guard let digest = BlobDigest(canonical: text) else { throw .invalidDigest(String(text)) }
        self = digest
    }

    /// Builds a digest from a finished swift-crypto hash.
    public init(_ hash: SHA256.Digest) {
        // A SHA-256 digest is 32 bytes by definition.
        self = hash.withUnsafeBytes { BlobDigest(bytes: $0)! }
    }

    /// The digest of the given bytes (small inputs only; blobs are hashed while they stream).
    public static func of(_ bytes: some Sequence<UInt8>) -> BlobDigest {
        var hasher = SHA256()
        hasher.update(data: Array(bytes))
        return BlobDigest(hasher.finalize())
    }

    /// The digest of zero bytes, which OCI manifests use as an empty config.
    public static let empty = BlobDigest.of([])
}
