import Foundation
import HoardHTTP
import NIOHTTP1

/// A credential hoard sends to an upstream channel.
public enum UpstreamCredential: Sendable, Hashable {
    /// HTTP Basic (Artifactory, Nexus, nginx `auth_basic`).
    case basic(username: String, password: String)
    /// `Authorization: Bearer` (prefix.dev, rattler's `BearerToken`).
    case bearer(String)
    /// conda's token in the URL path, `https://HOST/t/<TOKEN>/CHANNEL` (anaconda.org, rattler's `CondaToken`).
    case condaToken(String)

    /// Adds the credential to a request: a header, or the path token when the URL has none yet.
    public func apply(to request: inout UpstreamRequest) {
        switch self {
        case .basic(let username, let password):
            let encoded = Data("\(username):\(password)".utf8).base64EncodedString()
            request.headers.replaceOrAdd(name: "Authorization", value: "Basic \(encoded)")
        case .bearer(let token):
            request.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(token)")
        case .condaToken(let token):
            request.url = Self.insertingPathToken(token, into: request.url)
        }
    }

    /// `https://host/x` → `https://host/t/<token>/x`; a URL that already carries one is left alone.
    static func insertingPathToken(_ token: String, into url: String) -> String {
        guard let parts = URLParts(url), !parts.path.hasPrefix("/t/") else { return url }
        return parts.origin + "/t/" + token + parts.path
    }
}

/// Where a channel's upstream credential came from, named in errors (never the secret itself).
public struct CredentialSource: Sendable, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// The scheme-and-authority and the path of an http(s) URL, and its host as credentials are
/// looked up by (lowercased, without userinfo).
struct URLParts {
    /// `https://host:port`
    let origin: String
    /// From the first `/` after the authority (empty when there is none).
    let path: String
    /// `host` and `host:port` (when a port is given).
    let host: String
    let hostAndPort: String

    init?(_ url: String) {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let afterScheme = url[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        let hostPort = authority.lastIndex(of: "@").map { authority[authority.index(after: $0)...] } ?? authority
        guard !hostPort.isEmpty else { return nil }
        origin = String(url[..<authorityEnd])
        path = String(afterScheme[authorityEnd...])
        hostAndPort = hostPort.lowercased()
        if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
            host = String(hostPort[...close]).lowercased()
        } else {
            host = String(hostPort.prefix { $0 != ":" }).lowercased()
        }
    }
}

/// Printing a credential (a settings dump, a service description in a log) never shows the secret.
extension UpstreamCredential: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        switch self {
        case .basic(let username, _): "basic(\(username):<redacted>)"
        case .bearer: "bearer(<redacted>)"
        case .condaToken: "condaToken(<redacted>)"
        }
    }

    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

extension RattlerAuthFile: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "RattlerAuthFile(\(path), \(entries.count) entries)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

extension Netrc: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "Netrc(\(path))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
