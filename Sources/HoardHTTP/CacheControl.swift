/// A parsed `Cache-Control` field value (RFC 9111 §5.2): `1#( token [ "=" ( token / quoted-string ) ] )`.
///
/// Directive names are case-insensitive; values may be tokens or quoted strings (commas inside
/// quotes do not split). Malformed list members are skipped, so one bad directive does not hide
/// the others. Nothing here can trap, whatever the input.
public struct CacheControl: Sendable, Equatable {
    /// The directives in order: lower-cased name, and the unquoted value when one was given.
    public let directives: [(name: String, value: String?)]

    /// RFC 9111 §1.2.2: a delta-seconds value too large to represent is treated as 2^31.
    public static let deltaSecondsLimit: Int64 = 2_147_483_648

    public init(_ field: String) {
        directives = Self.split(field).compactMap(Self.directive)
    }

    /// The first value given for `name` (lower-case), or nil when absent. A directive without a
    /// value yields `.some(nil)`.
    public func value(of name: String) -> String?? {
        directives.first { $0.name == name }.map(\.value)
    }

    public func has(_ name: String) -> Bool { directives.contains { $0.name == name } }

    /// `max-age` in seconds, saturated at 2^31; nil when absent or invalid (not `1*DIGIT`:
    /// `-5`, `1e400`, `nan`, `inf`, empty), which RFC 9111 says to treat as absent.
    public var maxAge: Int64? { deltaSeconds("max-age") }

    /// `s-maxage`, same rules as `maxAge`.
    public var sharedMaxAge: Int64? { deltaSeconds("s-maxage") }

    public func deltaSeconds(_ name: String) -> Int64? {
        guard case .some(.some(let text)) = value(of: name) else { return nil }
        return DeltaSeconds.parse(text)
    }

    public static func == (a: CacheControl, b: CacheControl) -> Bool {
        a.directives.map(\.name) == b.directives.map(\.name) && a.directives.map(\.value) == b.directives.map(\.value)
    }

    /// List members, split at commas outside quoted strings.
    private static func split(_ field: String) -> [Substring] {
        var members: [Substring] = []
        var start = field.startIndex
        var index = field.startIndex
        var quoted = false
        var escaped = false
        while index < field.endIndex {
            let c = field[index]
            if quoted {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { quoted = false }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                members.append(field[start..<index])
                start = field.index(after: index)
            }
            index = field.index(after: index)
        }
        members.append(field[start...])
        return members
    }

    private static func directive(_ member: Substring) -> (name: String, value: String?)? {
        let member = member.trimmingOWS
        guard !member.isEmpty else { return nil }
        guard let equals = member.firstIndex(of: "=") else {
            return Token.isToken(member) ? (member.lowercased(), nil) : nil
        }
        let name = member[..<equals].trimmingOWS
        let raw = member[member.index(after: equals)...].trimmingOWS
        guard Token.isToken(name), let value = Token.value(raw) else { return nil }
        return (name.lowercased(), value)
    }
}

/// `delta-seconds = 1*DIGIT` (RFC 9111 §1.2.2).
public enum DeltaSeconds {
    /// Digits only; a value past 2^31 is 2^31; anything else (sign, exponent, fraction,
    /// `nan`, `inf`, empty) is nil.
    public static func parse<S: StringProtocol>(_ text: S) -> Int64? {
        HeaderDigits.saturating(text).map { min($0, CacheControl.deltaSecondsLimit) }
    }
}

/// RFC 9110 §5.6.2 tokens and §5.6.4 quoted strings.
enum Token {
    static func isToken<S: StringProtocol>(_ text: S) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isTokenByte)
    }

    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }

    /// A token, or the content of a quoted string with its escapes undone; nil otherwise.
    static func value<S: StringProtocol>(_ text: S) -> String? {
        if isToken(text) { return String(text) }
        var bytes = Array(text.utf8)
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\"") else { return nil }
        bytes = Array(bytes[1..<(bytes.count - 1)])
        var out: [UInt8] = []
        var escaped = false
        for b in bytes {
            if escaped { out.append(b); escaped = false; continue }
            if b == UInt8(ascii: "\\") { escaped = true; continue }
            if b == UInt8(ascii: "\"") { return nil }  // an unescaped quote inside
            out.append(b)
        }
        guard !escaped else { return nil }
        return String(decoding: out, as: UTF8.self)
    }
}
