import Foundation

/// rattler's and pixi's authentication file (`RATTLER_AUTH_FILE`): a JSON object keyed by host
/// name (`*.` wildcards allowed), each value one of `{"BearerToken": "…"}`,
/// `{"BasicHTTP": {"username": "…", "password": "…"}}` or `{"CondaToken": "…"}`.
public struct RattlerAuthFile: Sendable {
    public let path: String
    let entries: [String: UpstreamCredential]

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public init(path: String) throws(Invalid) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw Invalid(description: "cannot read RATTLER_AUTH_FILE \(path): \((error as NSError).localizedDescription)")
        }
        try self.init(data: data, path: path)
    }

    public init(data: Data, path: String) throws(Invalid) {
        self.path = path
        guard let object = try? JSONSerialization.jsonObject(with: data), let root = object as? [String: Any] else {
            throw Invalid(description: "RATTLER_AUTH_FILE \(path) is not a JSON object keyed by host name")
        }
        var entries: [String: UpstreamCredential] = [:]
        for (host, value) in root {
            // The messages name the host, never the value: it is a secret.
            let bad = Invalid(description:
                "RATTLER_AUTH_FILE \(path): the entry for \"\(host)\" must be {\"BearerToken\": \"…\"}, {\"CondaToken\": \"…\"} or {\"BasicHTTP\": {\"username\": \"…\", \"password\": \"…\"}}")
            guard let entry = value as? [String: Any], entry.count == 1, let (kind, inner) = entry.first else { throw bad }
            switch kind {
            case "BearerToken":
                guard let token = inner as? String, !token.isEmpty else { throw bad }
                entries[host.lowercased()] = .bearer(token)
            case "CondaToken":
                guard let token = inner as? String, !token.isEmpty else { throw bad }
                entries[host.lowercased()] = .condaToken(token)
            case "BasicHTTP":
                guard let basic = inner as? [String: Any], let user = basic["username"] as? String, let password = basic["password"] as? String
                else { throw bad }
                entries[host.lowercased()] = .basic(username: user, password: password)
            default:
                throw bad
            }
        }
        self.entries = entries
    }

    /// The entry for `host` (`host:port` tried first), else the closest `*.` wildcard above it:
    /// `*.example.com` covers `repo.example.com` and `a.repo.example.com`. Returns the key used.
    public func credential(host: String, hostAndPort: String) -> (key: String, credential: UpstreamCredential)? {
        for key in [hostAndPort, host] {
            if let found = entries[key] { return (key, found) }
        }
        var labels = host.split(separator: ".")
        while labels.count > 1 {
            labels.removeFirst()
            let key = "*." + labels.joined(separator: ".")
            if let found = entries[key] { return (key, found) }
        }
        return nil
    }
}
