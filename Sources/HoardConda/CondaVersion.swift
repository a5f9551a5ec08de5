/// A conda package version with conda's ordering (conda's `VersionOrder`).
///
/// The rules, as conda documents them:
/// - an optional epoch before `!` (default 0) and an optional local version after `+`;
/// - components split at `.` and `_` (a trailing `_` stays part of the last component, for
///   openssl-like versions such as `1.0.1_`); a `-` counts as `_` when there is no `_`;
/// - each component splits into runs of digits (numbers) and non-digits (lowercased strings);
///   a component starting with a string gets a leading 0, so `1.1.a1 == 1.1.0a1`;
/// - numbers compare numerically, strings lexicographically, strings sort below numbers,
///   `dev` below every other string and `post` above everything;
/// - a missing component or part counts as 0, so `1.1 == 1.1.0`.
public struct CondaVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// One run of a component.
    enum Part: Sendable, Hashable, Comparable {
        /// `dev`: below any other value.
        case dev
        case string(String)
        /// Decimal digits without leading zeros ("" is zero): compared by length, then bytes, so
        /// no version number can overflow.
        case number(String)
        /// `post`: above any other value.
        case post

        static let zero = Part.number("")

        private var rank: Int {
            switch self {
            case .dev: 0
            case .string: 1
            case .number: 2
            case .post: 3
            }
        }

        static func < (a: Part, b: Part) -> Bool {
            switch (a, b) {
            case (.string(let x), .string(let y)): return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
            case (.number(let x), .number(let y)): return x.utf8.count != y.utf8.count ? x.utf8.count < y.utf8.count : x < y
            default: return a.rank < b.rank
            }
        }
    }

    /// The text as given.
    public let rawValue: String
    /// The epoch as the first component, then the version's components.
    let version: [[Part]]
    /// The local version's components (after `+`), often empty.
    let local: [[Part]]

    public var description: String { rawValue }

    /// Parses `text`; throws what a user can fix when it is not a conda version.
    public init(_ text: String) throws(VersionSpecError) {
        rawValue = text
        var work = text.trimmingWhitespace().lowercased()
        guard !work.isEmpty else { throw .invalidVersion(text, "it is empty") }
        if !Self.validCharacters(work), work.contains("-"), !work.contains("_") {
            work = work.replacingAll("-", with: "_")
        }
        guard Self.validCharacters(work) else {
            throw .invalidVersion(text, "only letters, digits and . _ + ! * are allowed")
        }
        let epochSplit = work.split(separator: "!", omittingEmptySubsequences: false)
        guard epochSplit.count <= 2 else { throw .invalidVersion(text, "more than one '!'") }
        var epoch = "0"
        if epochSplit.count == 2 {
            epoch = String(epochSplit[0])
            guard !epoch.isEmpty, epoch.utf8.allSatisfy(ASCII.isDigit) else { throw .invalidVersion(text, "the epoch before '!' must be a number") }
        }
        let localSplit = epochSplit[epochSplit.count - 1].split(separator: "+", omittingEmptySubsequences: false)
        guard localSplit.count <= 2 else { throw .invalidVersion(text, "more than one '+'") }
        var main = String(localSplit[0])
        guard !main.isEmpty else { throw .invalidVersion(text, "no version before '+'") }
        var components: [String]
        if main.hasSuffix("_") {
            main.removeLast()
            components = Self.split(main)
            components[components.count - 1] += "_"
        } else {
            components = Self.split(main)
        }
        var version = [try Self.parts(epoch, text)]
        for component in components { version.append(try Self.parts(component, text)) }
        var local: [[Part]] = []
        if localSplit.count == 2 {
            for component in Self.split(String(localSplit[1])) { local.append(try Self.parts(component, text)) }
        }
        self.version = version
        self.local = local
    }

    private static func validCharacters(_ s: String) -> Bool {
        s.utf8.allSatisfy { b in
            ASCII.isDigit(b) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "+")
                || b == UInt8(ascii: "!") || b == UInt8(ascii: "*")
        }
    }

    private static func split(_ s: String) -> [String] {
        s.split(omittingEmptySubsequences: false) { $0 == "." || $0 == "_" }.map(String.init)
    }

    /// A component's runs of digits and non-digits (`*` runs on their own).
    private static func parts(_ component: String, _ text: String) throws(VersionSpecError) -> [Part] {
        guard !component.isEmpty else { throw .invalidVersion(text, "an empty component (two separators in a row, or one at an end)") }
        var runs: [Part] = []
        var current: [UInt8] = []
        var currentKind = -1
        func flush() {
            guard !current.isEmpty else { return }
            let run = String(decoding: current, as: UTF8.self)
            if currentKind == 0 {
                runs.append(.number(String(run.drop { $0 == "0" })))
            } else if run == "dev" {
                runs.append(.dev)
            } else if run == "post" {
                runs.append(.post)
            } else {
                runs.append(.string(run))
            }
            current.removeAll(keepingCapacity: true)
        }
        for b in component.utf8 {
            let kind = ASCII.isDigit(b) ? 0 : (b == UInt8(ascii: "*") ? 2 : 1)
            if kind != currentKind { flush(); currentKind = kind }
            current.append(b)
        }
        flush()
        if case .number = runs[0] {} else { runs.insert(.zero, at: 0) }
        return runs
    }

    // MARK: Ordering

    /// -1, 0 or 1, as conda orders the lists of components (missing ones count as 0).
    static func compare(_ a: [[Part]], _ b: [[Part]]) -> Int {
        for k in 0..<max(a.count, b.count) {
            let x = k < a.count ? a[k] : []
            let y = k < b.count ? b[k] : []
            for j in 0..<max(x.count, y.count) {
                let p = j < x.count ? x[j] : .zero
                let q = j < y.count ? y[j] : .zero
                if p < q { return -1 }
                if q < p { return 1 }
            }
        }
        return 0
    }

    func compare(_ other: CondaVersion) -> Int {
        let v = Self.compare(version, other.version)
        return v != 0 ? v : Self.compare(local, other.local)
    }

    public static func < (a: CondaVersion, b: CondaVersion) -> Bool { a.compare(b) < 0 }
    /// conda's equality: `1.1 == 1.1.0`, `1.0A == 1.0a`.
    public static func == (a: CondaVersion, b: CondaVersion) -> Bool { a.compare(b) == 0 }

    public func hash(into hasher: inout Hasher) {
        // Equal versions must hash alike: trailing zeros are dropped before hashing.
        func trimmed(_ list: [[Part]]) -> [[Part]] {
            var list = list.map { component -> [Part] in
                var c = component
                while c.count > 1, c.last == .zero { c.removeLast() }
                return c
            }
            while let last = list.last, last.allSatisfy({ $0 == .zero }) { list.removeLast() }
            return list
        }
        hasher.combine(trimmed(version))
        hasher.combine(trimmed(local))
    }

    /// Whether this version starts with `prefix` component by component, as conda's `1.2.*`
    /// matches (`1.2`, `1.2.0`, `1.2.5rc1`, not `1.20`); a string last part of the prefix
    /// matches as a string prefix (`1.2rc` matches `1.2rc1`).
    public func hasPrefix(_ prefix: CondaVersion) -> Bool {
        let (mine, theirs): ([[Part]], [[Part]])
        if !prefix.local.isEmpty {
            guard Self.compare(version, prefix.version) == 0 else { return false }
            (mine, theirs) = (local, prefix.local)
        } else {
            (mine, theirs) = (version, prefix.version)
        }
        guard let lastComponent = theirs.last else { return true }
        let n = theirs.count - 1
        guard Self.compare(Array(mine.prefix(n)), Array(theirs.prefix(n))) == 0 else { return false }
        let component = n < mine.count ? mine[n] : []
        let m = lastComponent.count - 1
        guard Self.compare([Array(component.prefix(m))], [Array(lastComponent.prefix(m))]) == 0 else { return false }
        let mineLast: Part? = m < component.count ? component[m] : nil
        switch lastComponent[m] {
        case .string(let s):
            if case .string(let t)? = mineLast { return t.hasPrefix(s) }
            return false
        case let part:
            // conda: a part the version does not have matches nothing (`1.2` is not `1.2.0.*`).
            return mineLast == part
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        return String(self.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }

    func replacingAll(_ target: Character, with replacement: Character) -> String {
        String(self.map { $0 == target ? replacement : $0 })
    }
}

extension ASCII {
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
}
