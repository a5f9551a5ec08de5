import Crypto
import Foundation

/// A token for reading a protected channel: `hoard-` and 64 hex digits (256 random bits from the
/// system's CSPRNG). The index keeps its sha256 only. Letters, digits and '-' only: conda finds
/// the token of a `/t/<TOKEN>/` URL with `[a-zA-Z0-9-]*` and breaks the URL on anything else.
public enum ChannelToken {
    public static let prefix = "hoard-"

    /// A new token; shown once, to whoever ran `hoard token create`.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return prefix + bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `text` has a token's shape (checked before any lookup).
    public static func isWellFormed(_ text: String) -> Bool {
        guard text.hasPrefix(prefix) else { return false }
        let hex = text.utf8.dropFirst(prefix.utf8.count)
        return hex.count == 64 && hex.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// What the index stores and looks tokens up by.
    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The short id `hoard token list` shows and `revoke` takes: the hash's first 12 digits.
    public static func id(ofHash hash: String) -> String { String(hash.prefix(12)) }
}

/// A channel token as the index holds it.
public struct ChannelTokenRecord: Sendable, Hashable {
    public let id: String
    public let channel: String
    public let createdAt: Double
    /// nil: never expires.
    public let expiresAt: Double?
    public let revokedAt: Double?

    /// Whether the token lets its holder read `channel` at `now`.
    public func grants(_ channel: String, now: Double = Date().timeIntervalSince1970) -> Bool {
        guard channel == self.channel, revokedAt == nil else { return false }
        if let expiresAt, expiresAt <= now { return false }
        return true
    }
}
