/// The integrity facts a repodata record gives about one package file.
/// Both are optional: records without them are still listed (clients then verify md5 or nothing).
public struct PackageDigest: Sendable, Hashable {
    public var sha256: SHA256Digest?
    public var size: UInt64?

    public init(sha256: SHA256Digest? = nil, size: UInt64? = nil) {
        self.sha256 = sha256
        self.size = size
    }

    /// Lowercase 64-digit hex, or nil.
    public var sha256Hex: String? { sha256?.hex }
}
