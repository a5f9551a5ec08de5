/// A conda match spec: `numpy`, `numpy >=2,<3`, `python 3.12.*`, `openssl=3.*=*_0`,
/// `numpy=1.11` (fuzzy: 1.11.*), `numpy==1.11` (exact), `numpy 1.8 py27_0`,
/// `conda-forge::numpy`, `numpy[version='>=1.8,<2', build=py*, build_number=3]`.
/// What `depends` lists in repodata is the space-separated form.
public struct MatchSpec: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let version: VersionSpec?
    /// A build string pattern (`*` wildcards).
    public let build: String?
    public let buildNumber: BuildNumberSpec?
    /// The channel named before `::`, if any (the caller decides what it means).
    public let channel: String?
    public let rawValue: String

    public var description: String { rawValue }

    public init(_ text: String) throws(VersionSpecError) {
        rawValue = text
        var rest = text
        if let hash = rest.firstIndex(of: "#") { rest = String(rest[..<hash]) }
        rest = rest.trimmingWhitespace()
        guard !rest.isEmpty else { throw .invalidMatchSpec(text, "it is empty") }

        var brackets: [String: String] = [:]
        if rest.hasSuffix("]"), let open = rest.firstIndex(of: "[") {
            brackets = try Self.keyValues(String(rest[rest.index(after: open)..<rest.index(before: rest.endIndex)]), text)
            rest = String(rest[..<open]).trimmingWhitespace()
        }
        var channel: String? = nil
        let parts = rest.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2 {
            channel = String(parts[0])
            rest = String(parts[1]).trimmingWhitespace()
        }
        let nameEnd = rest.firstIndex { " \t=<>!~".contains($0) } ?? rest.endIndex
        let name = String(rest[..<nameEnd]).lowercased()
        guard !name.isEmpty, name.utf8.allSatisfy({ ASCII.isAlnum($0) || "._-*".utf8.contains($0) }) else {
            throw .invalidMatchSpec(text, "no package name (letters, digits, . _ -) at the start")
        }
        var (versionText, build) = try Self.versionAndBuild(Self.normalizedSpaces(String(rest[nameEnd...])), text)

        if let value = brackets["version"] { versionText = value }
        if let value = brackets["build"] { build = value }
        var version: VersionSpec? = nil
        if let versionText {
            do { version = try VersionSpec(parsing: versionText) } catch { throw .invalidMatchSpec(text, error.description) }
        }
        self.name = name
        self.version = version
        self.build = build
        self.buildNumber = try brackets["build_number"].map { value throws(VersionSpecError) in
            guard let spec = BuildNumberSpec(value) else { throw .invalidMatchSpec(text, "build_number \(value.debugDescription) is not a number or a comparison with one") }
            return spec
        }
        self.channel = channel
    }

    /// Whether a package record matches.
    public func matches(name: String, version: CondaVersion, build: String, buildNumber: Int) -> Bool {
        guard self.name == "*" || self.name == name.lowercased() else { return false }
        if let spec = self.version, !spec.matches(version) { return false }
        if let pattern = self.build, !Glob.matches(pattern, build) { return false }
        if let spec = self.buildNumber, !spec.matches(buildNumber) { return false }
        return true
    }

    /// The version constraint and build pattern after the name: `>=2,<3`, ` 3.12.*`,
    /// ` 1.8 py27_0`, `=1.11` (fuzzy), `==1.11`, `=1.8=py27_0`, `=3.*=*_0`.
    private static func versionAndBuild(_ rest: String, _ text: String) throws(VersionSpecError) -> (String?, String?) {
        let trimmed = rest.trimmingWhitespace()
        if trimmed.isEmpty { return (nil, nil) }
        if rest.first == " " || rest.first == "\t" {
            // The space-separated form of repodata's depends: version, then maybe build.
            let words = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard words.count <= 2 else { throw .invalidMatchSpec(text, "more than a version and a build after the name") }
            return (words[0], words.count == 2 ? words[1] : nil)
        }
        var body = trimmed
        let fuzzy = body.hasPrefix("=") && !body.hasPrefix("==")
        if fuzzy { body.removeFirst() }
        // The build follows an `=` that is no part of an operator.
        let chars = Array(body)
        var split: Int? = nil
        for k in chars.indices.dropFirst() where chars[k] == "=" {
            let before = chars[k - 1]
            let after: Character? = k + 1 < chars.count ? chars[k + 1] : nil
            if !"=<>!~,|".contains(before) && after != "=" { split = k }
        }
        var version = split.map { String(chars[..<$0]) } ?? body
        let build = split.map { String(chars[($0 + 1)...]) }
        if build?.isEmpty == true { throw .invalidMatchSpec(text, "an empty build after '='") }
        // `numpy=1.11` is fuzzy (1.11.*); with a build (`numpy=1.8=py27_0`) the version is exact.
        let plain = !version.contains(where: { "<>=!~,|*()".contains($0) })
        if fuzzy && build == nil && plain { version += ".*" }
        if version.isEmpty { return (nil, build) }
        return (version, build)
    }

    /// `numpy >= 1.8 , < 2` → `numpy >=1.8,<2`: no spaces after operators or around `,` `|`.
    private static func normalizedSpaces(_ s: String) -> String {
        var out: [Character] = []
        let chars = Array(s)
        var k = 0
        while k < chars.count {
            let c = chars[k]
            if c == " " || c == "\t" {
                var j = k
                while j < chars.count, chars[j] == " " || chars[j] == "\t" { j += 1 }
                let previous = out.last
                let next: Character? = j < chars.count ? chars[j] : nil
                let glued = (previous.map { "<>=!~,|".contains($0) } ?? false) || (next.map { ",|".contains($0) } ?? false)
                if !glued || out.isEmpty { out.append(" ") }
                k = j
                continue
            }
            out.append(c)
            k += 1
        }
        return String(out)
    }

    /// `version='>=1.8,<2', build=py*` (values quoted with ' or ", or bare).
    private static func keyValues(_ s: String, _ text: String) throws(VersionSpecError) -> [String: String] {
        var result: [String: String] = [:]
        let chars = Array(s)
        var k = 0
        while k < chars.count {
            while k < chars.count, chars[k] == " " || chars[k] == "," { k += 1 }
            guard k < chars.count else { break }
            let keyStart = k
            while k < chars.count, chars[k] != "=" { k += 1 }
            guard k < chars.count else { throw .invalidMatchSpec(text, "a bracket entry without '='") }
            let key = String(chars[keyStart..<k]).trimmingWhitespace()
            k += 1
            while k < chars.count, chars[k] == " " { k += 1 }
            var value: String
            if k < chars.count, chars[k] == "'" || chars[k] == "\"" {
                let quote = chars[k]
                k += 1
                let start = k
                while k < chars.count, chars[k] != quote { k += 1 }
                guard k < chars.count else { throw .invalidMatchSpec(text, "an unclosed quote in brackets") }
                value = String(chars[start..<k])
                k += 1
            } else {
                let start = k
                while k < chars.count, chars[k] != "," { k += 1 }
                value = String(chars[start..<k]).trimmingWhitespace()
            }
            guard ["version", "build", "build_number", "channel", "subdir", "md5", "sha256", "fn", "url", "license", "track_features", "features", "name"].contains(key) else {
                throw .invalidMatchSpec(text, "unknown key \(key.debugDescription) in brackets")
            }
            if key == "version" || key == "build" || key == "build_number" { value = value.trimmingWhitespace() }
            result[key] = value
        }
        return result
    }
}

/// `build_number=3`, `>=3`, `<4`.
public struct BuildNumberSpec: Sendable, Hashable {
    public enum Relation: String, Sendable, Hashable { case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=" }
    public let relation: Relation
    public let value: Int

    public init?(_ text: String) {
        let t = text.trimmingWhitespace()
        let ops: [(String, Relation)] = [("==", .equal), ("!=", .notEqual), ("<=", .lessOrEqual), (">=", .greaterOrEqual), ("<", .less), (">", .greater), ("=", .equal)]
        var relation = Relation.equal
        var digits = Substring(t)
        if let (op, r) = ops.first(where: { t.hasPrefix($0.0) }) {
            relation = r
            digits = t.dropFirst(op.count)
        }
        guard let value = Int(digits.trimmingWhitespaceSub()) else { return nil }
        self.relation = relation
        self.value = value
    }

    public func matches(_ n: Int) -> Bool {
        switch relation {
        case .equal: n == value
        case .notEqual: n != value
        case .less: n < value
        case .lessOrEqual: n <= value
        case .greater: n > value
        case .greaterOrEqual: n >= value
        }
    }
}

extension Substring {
    func trimmingWhitespaceSub() -> String { String(self).trimmingWhitespace() }
}
