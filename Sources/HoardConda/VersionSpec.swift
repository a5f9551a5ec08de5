/// Why a version, version constraint or match spec was refused.
public enum VersionSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidVersion(String, String)
    case invalidConstraint(String, String)
    case invalidMatchSpec(String, String)

    public var description: String {
        switch self {
        case .invalidVersion(let text, let why): "invalid version \(text.debugDescription): \(why)"
        case .invalidConstraint(let text, let why): "invalid version constraint \(text.debugDescription): \(why)"
        case .invalidMatchSpec(let text, let why):
            "invalid match spec \(text.debugDescription): \(why) (expected e.g. `numpy`, `numpy >=2,<3`, `python 3.12.*`, `openssl=3.*=*_0`)"
        }
    }
}

/// A conda version constraint: `>=2,<3`, `3.12.*`, `1.0|1.2`, `~=1.4.5`, `!=1.2.*`, `*`.
/// `,` (all of) binds tighter than `|` (any of); parentheses group.
public indirect enum VersionSpec: Sendable, Hashable {
    case any
    case equal(CondaVersion)
    case notEqual(CondaVersion)
    case less(CondaVersion)
    case lessOrEqual(CondaVersion)
    case greater(CondaVersion)
    case greaterOrEqual(CondaVersion)
    /// `1.2.*`, `1.2*`, `=1.2`: the version starts with these components.
    case startsWith(CondaVersion)
    case notStartsWith(CondaVersion)
    /// `~=1.4.5`: at least 1.4.5, and 1.4.*.
    case compatible(CondaVersion)
    /// A pattern with `*` elsewhere than at the end (`1.*.3`), matched against the version text.
    case glob(String)
    case all([VersionSpec])
    case either([VersionSpec])

    public func matches(_ version: CondaVersion) -> Bool {
        switch self {
        case .any: return true
        case .equal(let v): return version == v
        case .notEqual(let v): return version != v
        case .less(let v): return version < v
        case .lessOrEqual(let v): return version <= v
        case .greater(let v): return version > v
        case .greaterOrEqual(let v): return version >= v
        case .startsWith(let v): return version.hasPrefix(v)
        case .notStartsWith(let v): return !version.hasPrefix(v)
        case .compatible(let v):
            guard version >= v else { return false }
            // The prefix: every component of v but the last (epoch excluded from the count).
            guard let prefix = v.droppingLastComponent() else { return true }
            return version.hasPrefix(prefix)
        case .glob(let pattern): return Glob.matches(pattern, version.rawValue.lowercased())
        case .all(let specs): return specs.allSatisfy { $0.matches(version) }
        case .either(let specs): return specs.contains { $0.matches(version) }
        }
    }

    /// Parses a constraint expression.
    public init(parsing text: String) throws(VersionSpecError) {
        var parser = Parser(text: text)
        let spec = try parser.orExpression()
        guard parser.atEnd else { throw .invalidConstraint(text, "unexpected \(parser.rest.debugDescription)") }
        self = spec
    }

    /// One constraint without `,` `|` or parentheses.
    static func term(_ raw: String, in text: String) throws(VersionSpecError) -> VersionSpec {
        let term = raw.trimmingWhitespace()
        guard !term.isEmpty else { throw .invalidConstraint(text, "an empty constraint") }
        let operators = ["==", "!=", "<=", ">=", "~=", "<", ">", "="]
        guard let op = operators.first(where: { term.hasPrefix($0) }) else {
            // No operator: exact, or a prefix when it ends in `*`.
            if term.allSatisfy({ $0 == "*" || $0 == "." }) { return .any }
            if let star = term.firstIndex(of: "*") {
                if term[star...].allSatisfy({ $0 == "*" }) { return .startsWith(try version(trimmedStar(term), text)) }
                return .glob(term.lowercased())
            }
            return .equal(try version(term, text))
        }
        var operand = String(term.dropFirst(op.count)).trimmingWhitespace()
        let wildcard = operand.hasSuffix("*")
        if wildcard { operand = trimmedStar(operand) }
        guard !operand.isEmpty else {
            if wildcard && (op == "=" || op == "==" || op == ">=") { return .any }
            throw .invalidConstraint(text, "\(op) needs a version")
        }
        guard !operand.contains("*") else { throw .invalidConstraint(text, "`*` is only allowed at the end of a version") }
        let v = try version(operand, text)
        switch op {
        case "==": return wildcard ? .startsWith(v) : .equal(v)
        case "=": return .startsWith(v)
        case "!=": return wildcard ? .notStartsWith(v) : .notEqual(v)
        case "<": return .less(v)
        case "<=": return .lessOrEqual(v)
        case ">": return .greater(v)
        case ">=": return .greaterOrEqual(v)
        default:
            guard !wildcard else { throw .invalidConstraint(text, "~= does not take `*`") }
            return .compatible(v)
        }
    }

    /// `1.2.*` and `1.2*` both mean the components 1, 2.
    private static func trimmedStar(_ s: String) -> String {
        var s = s
        while s.hasSuffix("*") { s.removeLast() }
        while s.hasSuffix(".") { s.removeLast() }
        return s
    }

    private static func version(_ s: String, _ text: String) throws(VersionSpecError) -> CondaVersion {
        do {
            return try CondaVersion(s)
        } catch {
            throw .invalidConstraint(text, error.description)
        }
    }

    /// Recursive descent over `|`, `,` and parentheses.
    private struct Parser {
        let text: String
        var chars: [Character]
        var position = 0

        init(text: String) {
            self.text = text
            self.chars = Array(text)
        }

        var atEnd: Bool { position >= chars.count }
        var rest: String { String(chars[min(position, chars.count)...]) }

        mutating func skip() {
            while position < chars.count, chars[position] == " " || chars[position] == "\t" { position += 1 }
        }

        mutating func orExpression() throws(VersionSpecError) -> VersionSpec {
            var specs = [try andExpression()]
            skip()
            while position < chars.count, chars[position] == "|" {
                position += 1
                specs.append(try andExpression())
                skip()
            }
            return specs.count == 1 ? specs[0] : .either(specs)
        }

        mutating func andExpression() throws(VersionSpecError) -> VersionSpec {
            var specs = [try atom()]
            skip()
            while position < chars.count, chars[position] == "," {
                position += 1
                specs.append(try atom())
                skip()
            }
            return specs.count == 1 ? specs[0] : .all(specs)
        }

        mutating func atom() throws(VersionSpecError) -> VersionSpec {
            skip()
            if position < chars.count, chars[position] == "(" {
                position += 1
                let inner = try orExpression()
                skip()
                guard position < chars.count, chars[position] == ")" else { throw .invalidConstraint(text, "a '(' without its ')'") }
                position += 1
                return inner
            }
            let start = position
            while position < chars.count, !"|,()".contains(chars[position]) { position += 1 }
            return try VersionSpec.term(String(chars[start..<position]), in: text)
        }
    }
}

extension CondaVersion {
    /// The version without its last component (`1.4.5` → `1.4`), for `~=`; nil when it has one.
    func droppingLastComponent() -> CondaVersion? {
        // The epoch is the first entry of `version`: a prefix needs it plus one more component.
        guard version.count > 2 else { return nil }
        let epoch = rawValue.contains("!") ? String(rawValue.split(separator: "!")[0]) + "!" : ""
        var main = rawValue.split(separator: "+")[0]
        if let bang = main.firstIndex(of: "!") { main = main[main.index(after: bang)...] }
        var components = main.split(omittingEmptySubsequences: false) { $0 == "." || $0 == "_" || $0 == "-" }
        components.removeLast()
        return try? CondaVersion(epoch + components.joined(separator: "."))
    }
}

/// `*` wildcards, as conda matches build strings (`*_0`, `py3*`) and odd version patterns.
public enum Glob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == t[ti] {
                pi += 1; ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
