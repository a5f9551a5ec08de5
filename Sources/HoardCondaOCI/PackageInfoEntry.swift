/// One entry of a package's `info/` directory, as read from the archive.
public struct PackageInfoEntry: Sendable, Hashable {
    public enum Content: Sendable, Hashable {
        case file([UInt8], executable: Bool)
        case symlink(target: String)
    }

    /// Normalized: starts with `info/`, no `.`/`..` components, no leading `./` or `/`.
    public let path: String
    public let content: Content

    public init(path: String, content: Content) {
        self.path = path
        self.content = content
    }

    /// `path` made relative and checked: nil for anything outside `info/` or with `..` (never
    /// carried into the tarball clients extract).
    static func normalizedInfoPath(_ raw: String) -> String? {
        var components = raw.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        components.removeAll { $0 == "." }
        guard components.count >= 2, components[0] == "info", !components.contains("..") else { return nil }
        return components.joined(separator: "/")
    }
}

public enum PackageInfoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libarchive refused the archive (truncated, not the format its name says, …).
    case unreadable(filename: String, reason: String)
    /// No `info/index.json` in the package: not a conda package.
    case noIndexJSON(filename: String)
    /// `info/` is larger than anything a real package carries (a decompression bomb).
    case tooLarge(filename: String, limit: Int)
    case indexJSONInvalid(filename: String, reason: String)
    /// Writing the tarball failed (libarchive's reason).
    case tarball(String)

    public var description: String {
        switch self {
        case .unreadable(let f, let r): "cannot read the info/ of \(f): \(r)"
        case .noIndexJSON(let f): "\(f) has no info/index.json, so it is not a conda package"
        case .tooLarge(let f, let limit): "the info/ of \(f) is larger than \(limit) bytes; refused"
        case .indexJSONInvalid(let f, let r): "info/index.json of \(f) is not a JSON object: \(r)"
        case .tarball(let r): "cannot write info.tar.gz: \(r)"
        }
    }
}
