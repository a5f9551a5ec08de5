import HoardHTTP

/// One challenge of a `WWW-Authenticate` header (RFC 9110 §11.6.1), as sent by upstream
/// registries: `Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:x:pull"`.
public struct WWWAuthenticateChallenge: Hashable, Sendable {
    /// Lowercased scheme (`bearer`, `basic`, ...); schemes are case-insensitive.
    public let scheme: String
    /// Lowercased parameter names to unquoted values.
    public let parameters: [String: String]
    /// For schemes that carry a token68 instead of parameters (`Negotiate abc==`).
    public let token68: String?

    public var realm: String? { parameters["realm"] }
    public var service: String? { parameters["service"] }
    /// Space-separated scopes, split.
    public var scopes: [String] { parameters["scope"].map { $0.split(separator: " ").map(String.init) } ?? [] }
    public var isBearer: Bool { scheme == "bearer" }
    public var isBasic: Bool { scheme == "basic" }

    public init(scheme: String, parameters: [String: String] = [:], token68: String? = nil) {
        self.scheme = scheme.lowercased()
        self.parameters = parameters
        self.token68 = token68
    }

    /// Parses every challenge in one header value. Malformed trailing input is ignored rather than
    /// failing the whole header: a usable Bearer challenge matters more than strictness here.
    public static func parse(_ header: String) -> [WWWAuthenticateChallenge] {
        var p = Parser(bytes: Array(header.utf8))
        return p.challenges()
    }

    /// Parses several header lines (a response may carry more than one `WWW-Authenticate`).
    public static func parse(headers: [String]) -> [WWWAuthenticateChallenge] {
        headers.flatMap { parse($0) }
    }

    /// The token endpoint URL for this Bearer challenge: `realm?service=...&scope=...` with one
    /// `scope` parameter per scope, percent-encoded. Nil without a realm.
    public func tokenURL(scopes requested: [String]? = nil) -> String? {
        guard let realm else { return nil }
        var query: [String] = []
        if let service { query.append("service=" + PercentEncoding.encode(service)) }
        for s in requested ?? scopes { query.append("scope=" + PercentEncoding.encode(s)) }
        guard !query.isEmpty else { return realm }
        return realm + (realm.contains("?") ? "&" : "?") + query.joined(separator: "&")
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0

        mutating func challenges() -> [WWWAuthenticateChallenge] {
            var result: [WWWAuthenticateChallenge] = []
            while true {
                skip { $0 == 0x20 || $0 == 0x09 || $0 == UInt8(ascii: ",") }
                guard i < bytes.count else { break }
                guard let scheme = token() else {
                    // Not a token where a scheme should start: skip to the next comma and retry.
                    while i < bytes.count, bytes[i] != UInt8(ascii: ",") { i += 1 }
                    continue
                }
                skipSpaces()
                if let t68 = token68() {
                    result.append(WWWAuthenticateChallenge(scheme: scheme, token68: t68))
                    continue
                }
                var params: [String: String] = [:]
                while true {
                    let save = i
                    skipSpaces()
                    if i < bytes.count, bytes[i] == UInt8(ascii: ",") {
                        i += 1
                        skip { $0 == 0x20 || $0 == 0x09 || $0 == UInt8(ascii: ",") }
                    }
                    guard let name = token() else { i = save; break }
                    skipSpaces()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else {
                        i = save  // `name` was the next challenge's scheme
                        break
                    }
                    i += 1
                    skipSpaces()
                    let value = quoted() ?? token() ?? ""
                    params[name.lowercased()] = value
                }
                result.append(WWWAuthenticateChallenge(scheme: scheme, parameters: params))
            }
            return result
        }

        mutating func skip(_ pred: (UInt8) -> Bool) {
            while i < bytes.count, pred(bytes[i]) { i += 1 }
        }

        mutating func skipSpaces() { skip { $0 == 0x20 || $0 == 0x09 } }

        static func isTChar(_ b: UInt8) -> Bool {
            Tag.isWordByte(b) || "!#$%&'*+-.^`|~".utf8.contains(b)
        }

        mutating func token() -> String? {
            let start = i
            skip(Self.isTChar)
            return i > start ? String(decoding: bytes[start..<i], as: UTF8.self) : nil
        }

        /// token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=", and only when
        /// it is the whole credential (followed by end or ","), else it is the first auth-param.
        mutating func token68() -> String? {
            let start = i
            skip { Tag.isWordByte($0) || "-._~+/".utf8.contains($0) }
            guard i > start else { return nil }
            skip { $0 == UInt8(ascii: "=") }
            let end = i
            skipSpaces()
            if i == bytes.count || bytes[i] == UInt8(ascii: ",") {
                return String(decoding: bytes[start..<end], as: UTF8.self)
            }
            i = start
            return nil
        }

        mutating func quoted() -> String? {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            var out: [UInt8] = []
            while i < bytes.count {
                let b = bytes[i]
                i += 1
                if b == UInt8(ascii: "\\"), i < bytes.count {
                    out.append(bytes[i])
                    i += 1
                } else if b == UInt8(ascii: "\"") {
                    break
                } else {
                    out.append(b)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
