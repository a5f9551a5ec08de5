import Foundation

/// The JSON answer of a registry token endpoint (distribution token spec): `token` and/or
/// `access_token`, optional `expires_in` (seconds, default 60) and `issued_at` (RFC 3339).
public struct TokenResponse: Hashable, Sendable {
    /// The spec's default lifetime when `expires_in` is absent (ghcr.io sends none).
    public static let defaultLifetime: TimeInterval = 60
    /// The longest `expires_in` believed.
    public static let maxLifetime: TimeInterval = 86_400

    public let token: String
    public let expiresIn: TimeInterval
    public let issuedAt: Date?

    public init(token: String, expiresIn: TimeInterval = TokenResponse.defaultLifetime, issuedAt: Date? = nil) {
        self.token = token
        self.expiresIn = expiresIn
        self.issuedAt = issuedAt
    }

    public static func decode(_ body: some DataProtocol) throws(TokenResponseError) -> TokenResponse {
        let wire: Wire
        do { wire = try JSONDecoder().decode(Wire.self, from: Data(body)) } catch {
            throw .notJSON
        }
        // `token` first: it is what docker clients use when both are present.
        guard let token = [wire.token, wire.access_token].compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
            throw .noToken
        }
        // A lifetime past a day (or one no number can hold) is taken as a day: a token that
        // looks eternal would only be refreshed by a 401.
        let lifetime = wire.expires_in.flatMap { $0 > 0 ? min($0, maxLifetime) : nil } ?? defaultLifetime
        return TokenResponse(token: token, expiresIn: lifetime, issuedAt: wire.issued_at.flatMap(parseRFC3339))
    }

    private struct Wire: Decodable {
        var token: String?
        var access_token: String?
        var expires_in: Double?
        var issued_at: String?
    }

    /// When to stop using the token: `issued_at` (or the local receipt time) plus `expires_in`,
    /// minus `margin` so a request in flight does not carry a token that expires on arrival.
    public func expiresAt(receivedAt: Date, margin: TimeInterval = 5) -> Date {
        // A skewed upstream clock must not make a token look expired (or eternal): trust issued_at
        // only if it is close to our own receipt time.
        var base = receivedAt
        if let issuedAt, abs(issuedAt.timeIntervalSince(receivedAt)) < 300 { base = issuedAt }
        return base.addingTimeInterval(max(expiresIn - margin, 0))
    }

    static func parseRFC3339(_ s: String) -> Date? {
        if let d = try? Date(s, strategy: .iso8601) { return d }
        return try? Date(s, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

public enum TokenResponseError: Error, Equatable, Sendable, CustomStringConvertible {
    case notJSON
    case noToken

    public var message: String {
        switch self {
        case .notJSON: "token endpoint answer is not a JSON object"
        case .noToken: "token endpoint answer has neither a non-empty \"token\" nor \"access_token\""
        }
    }

    public var description: String { message }
}
