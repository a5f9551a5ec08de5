import Crypto
import Foundation

/// What a hoard bearer token says: who, for what, until when.
public struct TokenClaims: Hashable, Sendable {
    public var issuer: String
    public var subject: String
    /// The `service` the token is for; checked on verify so tokens of another hoard are refused.
    public var audience: String
    public var issuedAt: Date
    public var expiresAt: Date
    public var scopes: [Scope]
    /// Random id, so two tokens issued in the same second differ.
    public var id: String

    /// True when some scope grants `action` on repository `name`.
    public func allows(_ action: String, on name: RepositoryName) -> Bool {
        scopes.contains { $0.type == "repository" && $0.name == name.value && $0.allows(action) }
    }
}

/// A freshly issued token and the JSON body for the token endpoint.
public struct IssuedToken: Sendable {
    public let token: String
    public let claims: TokenClaims
    public var expiresIn: Int { Int(claims.expiresAt.timeIntervalSince(claims.issuedAt)) }

    /// `{"token":...,"access_token":...,"expires_in":...,"issued_at":...}`. Both token fields are
    /// sent: mamba and rattler read only `token`, the distribution spec prefers `access_token`.
    public var responseBody: [UInt8] {
        var w = JSONWriter()
        w.object { o in
            o.string("token", token)
            o.string("access_token", token)
            o.int("expires_in", Int64(expiresIn))
            o.string("issued_at", claims.issuedAt.formatted(.iso8601))
        }
        return w.bytes
    }
}

/// Issues and verifies short-lived HMAC-SHA256 tokens in compact JWT form (HS256).
///
/// Only hoard reads them, so there is no key id or public key: the secret is shared by the
/// processes of one deployment. The `access` claim follows distribution's token format.
public struct TokenIssuer: Sendable {
    public static let minimumSecretBytes = 32

    private let key: SymmetricKey
    public let issuer: String
    public let service: String
    public let lifetime: TimeInterval

    public init(secret: some DataProtocol, issuer: String = "hoard", service: String, lifetime: TimeInterval = 300)
        throws(TokenError)
    {
        guard secret.count >= Self.minimumSecretBytes else { throw .secretTooShort(secret.count) }
        self.key = SymmetricKey(data: Data(secret))
        self.issuer = issuer
        self.service = service
        self.lifetime = lifetime
    }

    /// Makes a token for `subject` (a user name, or "" for anonymous) with `scopes`.
    /// `now` is a parameter so tests and callers control time.
    public func issue(subject: String, scopes: [Scope], now: Date = Date()) -> IssuedToken {
        let issuedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        var idBytes = [UInt8](repeating: 0, count: 12)
        var rng = SystemRandomNumberGenerator()
        for i in idBytes.indices { idBytes[i] = rng.next() }
        let claims = TokenClaims(
            issuer: issuer, subject: subject, audience: service, issuedAt: issuedAt,
            expiresAt: issuedAt.addingTimeInterval(lifetime.rounded(.down)), scopes: scopes,
            id: Base64URL.encode(idBytes))

        var header = JSONWriter()
        header.object { o in
            o.string("alg", "HS256")
            o.string("typ", "JWT")
        }
        var payload = JSONWriter()
        payload.object { o in
            o.string("iss", claims.issuer)
            o.string("sub", claims.subject)
            o.string("aud", claims.audience)
            o.int("iat", Int64(claims.issuedAt.timeIntervalSince1970))
            o.int("nbf", Int64(claims.issuedAt.timeIntervalSince1970))
            o.int("exp", Int64(claims.expiresAt.timeIntervalSince1970))
            o.string("jti", claims.id)
            o.array("access") { a in
                for s in scopes {
                    a.object { e in
                        e.string("type", s.type)
                        e.string("name", s.name)
                        e.array("actions") { acts in for act in s.actions { acts.string(act) } }
                    }
                }
            }
        }
        let signingInput = Base64URL.encode(header.bytes) + "." + Base64URL.encode(payload.bytes)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(signingInput.utf8), using: key)
        return IssuedToken(token: signingInput + "." + Base64URL.encode(Array(mac)), claims: claims)
    }

    /// Checks signature, algorithm, issuer, audience and time window; returns the claims.
    public func verify(_ token: String, now: Date = Date()) throws(TokenError) -> TokenClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("a token has three dot-separated parts") }
        guard let signature = Base64URL.decode(parts[2]) else { throw .malformed("signature is not base64url") }
        let signingInput = Array("\(parts[0]).\(parts[1])".utf8)
        // Signature first: nothing in an unauthenticated token is looked at beyond its shape.
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signingInput, using: key) else {
            throw .badSignature
        }
        guard let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]) else {
            throw .malformed("header or payload is not base64url")
        }
        let header: Header
        let payload: Payload
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(headerBytes))
            payload = try JSONDecoder().decode(Payload.self, from: Data(payloadBytes))
        } catch {
            throw .malformed("header or payload is not the expected JSON")
        }
        guard header.alg == "HS256" else { throw .malformed("algorithm \(header.alg) is not HS256") }
        guard payload.iss == issuer else { throw .wrongIssuer(payload.iss) }
        guard payload.aud == service else { throw .wrongAudience(payload.aud) }
        let t = now.timeIntervalSince1970
        guard t < Double(payload.exp) else { throw .expired(Date(timeIntervalSince1970: Double(payload.exp))) }
        guard t >= Double(payload.nbf) else { throw .notYetValid }
        return TokenClaims(
            issuer: payload.iss, subject: payload.sub, audience: payload.aud,
            issuedAt: Date(timeIntervalSince1970: Double(payload.iat)),
            expiresAt: Date(timeIntervalSince1970: Double(payload.exp)),
            scopes: payload.access.map { Scope(type: $0.type, name: $0.name, actions: $0.actions) }, id: payload.jti)
    }

    private struct Header: Decodable {
        var alg: String
    }

    private struct Payload: Decodable {
        struct Access: Decodable {
            var type: String
            var name: String
            var actions: [String]
        }
        var iss: String
        var sub: String
        var aud: String
        var iat: Int64
        var nbf: Int64
        var exp: Int64
        var jti: String
        var access: [Access]
    }
}

public enum TokenError: Error, Equatable, Sendable, CustomStringConvertible {
    case secretTooShort(Int)
    case malformed(String)
    case badSignature
    case wrongIssuer(String)
    case wrongAudience(String)
    case expired(Date)
    case notYetValid

    public var message: String {
        switch self {
        case .secretTooShort(let n):
            "token secret has \(n) bytes; use at least \(TokenIssuer.minimumSecretBytes) random bytes"
        case .malformed(let why): "bearer token is malformed: \(why)"
        case .badSignature: "bearer token signature is invalid; request a new token"
        case .wrongIssuer(let i): "bearer token was issued by \"\(i)\", not this server"
        case .wrongAudience(let a): "bearer token is for service \"\(a)\", not this server"
        case .expired(let d): "bearer token expired at \(d.formatted(.iso8601)); request a new token"
        case .notYetValid: "bearer token is not valid yet; check the server clock"
        }
    }

    public var description: String { message }
    public var ociError: OCIError { OCIError(.unauthorized, message) }
}

/// base64url without padding (RFC 7515 §2).
enum Base64URL {
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        // Padding and the standard alphabet are refused: one spelling per token.
        guard text.utf8.allSatisfy({ Tag.isWordByte($0) || $0 == UInt8(ascii: "-") }) else { return nil }
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.utf8.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map(Array.init)
    }
}
