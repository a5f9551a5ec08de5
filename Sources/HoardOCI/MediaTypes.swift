import Foundation

/// Manifest and config media types hoard understands.
public enum OCIMediaType {
    public static let imageManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let imageIndex = "application/vnd.oci.image.index.v1+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    /// Docker schema 1 (signed and unsigned); recognised only to reject it with a clear message.
    public static let dockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json"
    public static let dockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
    public static let emptyJSON = "application/vnd.oci.empty.v1+json"
    public static let ociImageConfig = "application/vnd.oci.image.config.v1+json"
    public static let dockerImageConfig = "application/vnd.docker.container.image.v1+json"

    /// RFC 6838 shape check (`type/subtype`, restricted-name characters), parameters not allowed.
    public static func isWellFormed(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        return parts.allSatisfy(isRestrictedName)
    }

    private static func isRestrictedName(_ s: Substring) -> Bool {
        guard let first = s.utf8.first, s.utf8.count <= 127 else { return false }
        func alnum(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
        }
        return alnum(first) && s.utf8.allSatisfy { b in alnum(b) || "!#$&^_.+-".utf8.contains(b) }
    }

    /// `Content-Type` without parameters, lowercased; nil for values that say nothing about the
    /// manifest kind (absent, `application/json`, `application/octet-stream`).
    public static func manifestTypeFromContentType(_ header: String?) -> String? {
        guard let header else { return nil }
        let bare = header.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
        switch bare {
        case "", "application/json", "application/octet-stream", "text/plain": return nil
        default: return bare
        }
    }
}
