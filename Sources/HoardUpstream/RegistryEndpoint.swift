/// Where an upstream OCI registry answers: scheme and authority, plus an optional namespace that
/// prefixes every repository (`https://ghcr.io/channel-mirrors` → repositories under
/// `channel-mirrors/`).
///
/// TLS is the default: plain http only when the reference says so explicitly (`http://`,
/// `oci+http://`), never by falling back after a TLS failure.
public struct RegistryEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// `https` or `http`.
    public let scheme: String
    /// `host[:port]`, lowercased.
    public let authority: String
    /// Repository prefix without slashes at either end; "" for none.
    public let namespace: String

    public init(scheme: String, authority: String, namespace: String = "") {
        self.scheme = scheme
        self.authority = authority.lowercased()
        self.namespace = namespace.split(separator: "/").joined(separator: "/")
    }

    /// Parses `https://HOST[:PORT][/NS]`, `http://…`, `oci://HOST[:PORT][/NS]` (https) or
    /// `oci+http://…` (plain http). A bare `HOST[/NS]` means https.
    public init(parsing text: String) throws(RegistryEndpointError) {
        var rest = Substring(text)
        var scheme = "https"
        if let r = rest.range(of: "://") {
            switch rest[..<r.lowerBound].lowercased() {
            case "https", "oci": scheme = "https"
            case "http", "oci+http": scheme = "http"
            default: throw .invalid(text)
            }
            rest = rest[r.upperBound...]
        }
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        guard !authority.isEmpty, !authority.contains("@"), !path.contains("?"), !path.contains("#") else { throw .invalid(text) }
        self.init(scheme: scheme, authority: String(authority), namespace: String(path))
    }

    /// `https://ghcr.io`.
    public var baseURL: String { "\(scheme)://\(authority)" }

    /// The full upstream repository for a repository below the namespace.
    public func repository(_ name: String) -> String {
        namespace.isEmpty ? name : name.isEmpty ? namespace : namespace + "/" + name
    }

    public var description: String { baseURL + (namespace.isEmpty ? "" : "/" + namespace) }
}

public enum RegistryEndpointError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let text):
            "\"\(text)\" is not a registry reference; expected https://HOST[:PORT][/NAMESPACE] (or http:// for a plain-http registry)"
        }
    }
}
