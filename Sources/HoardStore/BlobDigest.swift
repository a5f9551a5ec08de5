import Crypto

/// A sha256 content digest: the only name a blob has in the store.
///
/// Always 64 lowercase hex characters; printed as `sha256:<hex>` like OCI digests.
public struct BlobDigest: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 64 lowercase hex characters.
    public let hex: String

    /// Accepts `<64 hex>` or `sha256:<64 hex>`; hex must be lowercase, as in OCI and conda.
    public init(parsing text: some StringProtocol) throws(StoreError) {
        let hex = text.hasPrefix("sha256:") ? Substring(text.dropFirst(7)) : Substring(text)
        guard BlobDigest.isValidHex(hex.utf8) else { throw .invalidDigest(String(text)) }
        self.hex = String(hex)
    }

    /// Builds a digest from a finished swift-crypto hash.
    public init(_ hash: SHA256.Digest) {
        var out = [UInt8]()
        out.reserveCapacity(64)
        let table = Array("0123456789abcdef".utf8)
        for byte in hash {
            out.append(table[Int(byte >> 4)])
            out.append(table[Int(byte & 0x0f)])
        }
        self.hex = String(decoding: out, as: UTF8.self)
    }

    /// The digest of the given bytes (small inputs only; blobs are hashed while they stream).
    public static func of(_ bytes: some Sequence<UInt8>) -> BlobDigest {
        var hasher = SHA256()
        hasher.update(data: Array(bytes))
        return BlobDigest(hasher.finalize())
    }

    /// The digest of zero bytes, which OCI manifests use as an empty config.
    public static let empty = BlobDigest.of([])

    public var description: String { "sha256:\(hex)" }

    /// The two-character fan-out directory of the blob layout.
    public var prefix: Substring { hex.prefix(2) }

    public static func < (lhs: BlobDigest, rhs: BlobDigest) -> Bool { lhs.hex < rhs.hex }

    static func isValidHex(_ utf8: some Collection<UInt8>) -> Bool {
        guard utf8.count == 64 else { return false }
        return utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
