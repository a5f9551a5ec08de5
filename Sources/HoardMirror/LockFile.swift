import HoardConda
import HoardDigest
import HoardHTTP
import Yams

/// The conda packages a lock file names, each with the digest(s) it records: pixi's
/// `pixi.lock`, conda-lock's `conda-lock.yml`, or conda's `@EXPLICIT` list.
public struct LockFile: Sendable {
    public enum Format: String, Sendable { case pixi = "pixi.lock", condaLock = "conda-lock.yml", explicit = "@EXPLICIT" }

    public struct Package: Sendable, Hashable {
        public let url: String
        public let sha256: BlobDigest?
        public let md5: String?
    }

    public let format: Format
    /// Distinct by URL, in the file's order.
    public let packages: [Package]
    /// Entries that are not conda packages (PyPI packages, local paths): what and why.
    public let skipped: [String]

    public init(parsing text: String) throws(MirrorError) {
        if Self.isExplicit(text) {
            self = try Self.explicit(text)
            return
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw .lockFile("it is neither an @EXPLICIT list nor YAML: \(error)")
        }
        guard let root, root.mapping != nil else { throw .lockFile("it is neither an @EXPLICIT list nor a YAML mapping") }
        if let list = root["package"]?.sequence {
            self = try Self.condaLock(Array(list))
        } else if let list = root["packages"]?.sequence, root["version"] != nil {
            self = try Self.pixi(Array(list))
        } else {
            throw .lockFile("a YAML file without conda-lock's `package` list or pixi.lock's `version` and `packages`")
        }
    }

    init(format: Format, packages: [Package], skipped: [String]) {
        var seen = Set<String>()
        self.format = format
        self.packages = packages.filter { seen.insert($0.url).inserted }
        self.skipped = skipped
    }

    // MARK: @EXPLICIT

    static func isExplicit(_ text: String) -> Bool {
        for line in text.split(whereSeparator: \.isNewline) {
            let t = line.trimmingCharacters()
            if t.isEmpty || t.hasPrefix("#") { continue }
            return t == "@EXPLICIT"
        }
        return false
    }

    /// `URL#<md5>`, `URL#<sha256>`, `URL#md5:<hex>`, `URL#sha256:<hex>` (or `=`), one a line
    /// after `@EXPLICIT`; comments and blank lines ignored.
    static func explicit(_ text: String) throws(MirrorError) -> LockFile {
        var packages: [Package] = []
        var skipped: [String] = []
        var started = false
        for line in text.split(whereSeparator: \.isNewline) {
            let t = line.trimmingCharacters()
            if t.isEmpty || t.hasPrefix("#") { continue }
            if !started { started = t == "@EXPLICIT"; continue }
            let parts = t.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
            let url = String(parts[0])
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                skipped.append("\(url): not an http(s) URL")
                continue
            }
            var sha256: BlobDigest?
            var md5: String?
            if parts.count == 2 {
                var hash = String(parts[1]).lowercased()
                var kind: String?
                for prefix in ["sha256:", "sha256=", "md5:", "md5="] where hash.hasPrefix(prefix) {
                    kind = String(prefix.dropLast())
                    hash = String(hash.dropFirst(prefix.count))
                }
                if (kind == nil || kind == "md5") && hash.count == 32 && hash.allSatisfy(\.isHexDigit) {
                    md5 = hash
                } else if (kind == nil || kind == "sha256"), let digest = BlobDigest(hex: hash) {
                    sha256 = digest
                } else {
                    throw .lockEntry(t, "the part after # is neither an md5 (32 hex digits) nor a sha256 (64)")
                }
            }
            packages.append(Package(url: url, sha256: sha256, md5: md5))
        }
        guard started else { throw .lockFile("no @EXPLICIT line") }
        return LockFile(format: .explicit, packages: packages, skipped: skipped)
    }

    // MARK: conda-lock

    /// conda-lock v1: `package:` entries with `manager`, `url` and `hash: {md5, sha256}`.
    static func condaLock(_ entries: [Node]) throws(MirrorError) -> LockFile {
        var packages: [Package] = []
        var skipped: [String] = []
        for entry in entries {
            let name = entry["name"]?.scalar?.string ?? "?"
            let manager = entry["manager"]?.scalar?.string ?? "conda"
            guard manager == "conda" else {
                skipped.append("\(name): a \(manager) package")
                continue
            }
            guard let url = entry["url"]?.scalar?.string else { throw .lockEntry(name, "no url") }
            packages.append(try package(url: url, sha256: entry["hash"]?["sha256"]?.scalar?.string, md5: entry["hash"]?["md5"]?.scalar?.string))
        }
        return LockFile(format: .condaLock, packages: packages, skipped: skipped)
    }

    // MARK: pixi

    /// pixi.lock: v6-7 entries `conda: URL` / `pypi: URL` with `sha256` and `md5`; v4-5 entries
    /// `kind: conda` with `url`.
    static func pixi(_ entries: [Node]) throws(MirrorError) -> LockFile {
        var packages: [Package] = []
        var skipped: [String] = []
        for entry in entries {
            var url = entry["conda"]?.scalar?.string
            if url == nil, entry["kind"]?.scalar?.string == "conda" { url = entry["url"]?.scalar?.string }
            guard let url else {
                let what = entry["pypi"]?.scalar?.string ?? entry["url"]?.scalar?.string ?? entry["name"]?.scalar?.string ?? "?"
                skipped.append("\(what): not a conda package")
                continue
            }
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                skipped.append("\(url): a local or source package, not an http(s) URL")
                continue
            }
            packages.append(try package(
                url: url,
                sha256: entry["sha256"]?.scalar?.string ?? entry["hash"]?["sha256"]?.scalar?.string,
                md5: entry["md5"]?.scalar?.string ?? entry["hash"]?["md5"]?.scalar?.string))
        }
        return LockFile(format: .pixi, packages: packages, skipped: skipped)
    }

    private static func package(url: String, sha256: String?, md5: String?) throws(MirrorError) -> Package {
        var digest: BlobDigest?
        if let sha256 {
            guard sha256.count == 64, let parsed = BlobDigest(hex: sha256.lowercased()) else {
                throw .lockEntry(url, "sha256 \(sha256.debugDescription) is not 64 hex digits")
            }
            digest = parsed
        }
        if let md5 {
            guard md5.count == 32, md5.allSatisfy(\.isHexDigit) else { throw .lockEntry(url, "md5 \(md5.debugDescription) is not 32 hex digits") }
        }
        return Package(url: url, sha256: digest, md5: md5?.lowercased())
    }
}

/// Where a locked package URL lives among the configured channels.
public struct LockedLocation: Sendable, Hashable {
    public let channel: String
    public let label: String
    public let subdir: String
    public let filename: CondaFilename

    /// Finds the channel (name, upstream base URL) whose base URL the package URL starts with.
    /// Throws naming the URL's channel base when none does, so the user can add it.
    public static func locate(_ url: String, channels: [(name: String, upstream: String)]) throws(MirrorError) -> LockedLocation {
        let path = url.split(separator: "?", maxSplits: 1)[0]
        var segments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard segments.count >= 5, let last = segments.last, let decoded = PercentEncoding.decoded(last),
              let filename = try? CondaFilename(decoded), let subdir = try? Subdir(segments[segments.count - 2])
        else { throw .lockEntry(url, "not a package URL (…/<subdir>/<name>-<version>-<build>.conda or .tar.bz2)") }
        segments.removeLast(2)
        var label = ""
        if segments.count >= 2, segments[segments.count - 2] == "label" {
            label = segments[segments.count - 1]
            segments.removeLast(2)
        }
        let base = segments.joined(separator: "/")
        // Exactly the channel base: a package of another channel under the same host is not this one.
        let match = channels
            .filter { Self.normalized($0.upstream) == Self.normalized(base) }
            .first
        guard let match else {
            let suggestion = segments.last.map { "--upstream \($0)=\(base)" } ?? "--upstream NAME=\(base)"
            throw .lockEntry(url, "its channel \(base) is not configured; add it with \(suggestion) or [channels] in the config")
        }
        return LockedLocation(channel: match.name, label: label, subdir: subdir.rawValue, filename: filename)
    }

    private static func normalized(_ url: String) -> String {
        var url = url.lowercased()
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}

extension StringProtocol {
    func trimmingCharacters() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        return String(String(self).drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
