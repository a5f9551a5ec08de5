import HoardHTTP
import Foundation

/// `Authorization: Basic <base64(user:password)>`.
public struct BasicCredentials: Hashable, Sendable {
    public let username: String
    public let password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// Parses an Authorization header value. Returns nil for other schemes (e.g. Bearer), throws
    /// for a Basic header that is broken so the client gets a precise 401 message.
    public init?(authorizationHeader header: String) throws(CredentialsError) {
        let trimmed = header.trimmingOWS
        guard let space = trimmed.firstIndex(of: " ") else {
            if trimmed.lowercased() == "basic" { throw .malformed("Basic credentials are empty") }
            return nil
        }
        guard trimmed[..<space].lowercased() == "basic" else { return nil }
        let encoded = trimmed[trimmed.index(after: space)...].trimmingCharacters(in: .whitespaces)
        guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8) else {
            throw .malformed("Basic credentials are not valid base64 of UTF-8 text")
        }
        // The password may contain ":", the user name may not (RFC 7617).
        guard let colon = text.firstIndex(of: ":") else {
            throw .malformed("Basic credentials must be user:password")
        }
        username = String(text[..<colon])
        password = String(text[text.index(after: colon)...])
    }

    /// The header value to send.
    public var authorizationHeader: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }
}

public enum CredentialsError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)

    public var message: String {
        switch self {
        case .malformed(let m): m
        }
    }

    public var description: String { message }
    public var ociError: OCIError { OCIError(.unauthorized, message) }
}
