/// A token scope: `repository:<name>:pull,push` (distribution's token spec), or any other
/// `type:name:actions` such as `registry:catalog:*`.
public struct Scope: Hashable, Sendable, CustomStringConvertible {
    /// `repository`, `registry`, ... A `(class)` suffix as in `repository(plugin)` is kept.
    public var type: String
    public var name: String
    /// Action order is kept as given, without duplicates.
    public var actions: [String]

    public init(type: String = "repository", name: String, actions: [String]) {
        self.type = type
        self.name = name
        var seen = Set<String>()
        self.actions = actions.filter { seen.insert($0).inserted }
    }

    /// Parses one scope. The name sits between the first and the last ":" because names may carry
    /// a `host:port/` prefix.
    public init(parsing text: String) throws(ScopeError) {
        guard let first = text.firstIndex(of: ":"), let last = text.lastIndex(of: ":"), first != last else {
            throw .malformed(text)
        }
        let type = String(text[..<first])
        let name = String(text[text.index(after: first)..<last])
        let actions = text[text.index(after: last)...].split(separator: ",").map(String.init)
        guard !type.isEmpty, !name.isEmpty,
            type.utf8.allSatisfy({ Tag.isWordByte($0) || "().-".utf8.contains($0) })
        else { throw .malformed(text) }
        if type == "repository" {
            guard RepositoryName.isValid(name) else { throw .invalidRepository(text) }
        }
        self.init(type: type, name: name, actions: actions)
    }

    /// Parses all `scope` query values; each may also hold several space-separated scopes
    /// (docker sends both forms). Scopes for the same resource are merged.
    public static func parseAll(query: [(String, String)]) throws(ScopeError) -> [Scope] {
        var result: [Scope] = []
        for (key, value) in query where key == "scope" {
            for part in value.split(separator: " ") {
                let scope = try Scope(parsing: String(part))
                if let i = result.firstIndex(where: { $0.type == scope.type && $0.name == scope.name }) {
                    result[i] = Scope(type: scope.type, name: scope.name, actions: result[i].actions + scope.actions)
                } else {
                    result.append(scope)
                }
            }
        }
        return result
    }

    public func allows(_ action: String) -> Bool { actions.contains(action) || actions.contains("*") }

    /// Keeps only the actions in `granted` (what the user may do); nil when nothing is left.
    public func restricted(to granted: Set<String>) -> Scope? {
        let kept = granted.contains("*") ? actions : actions.filter { granted.contains($0) }
        return kept.isEmpty ? nil : Scope(type: type, name: name, actions: kept)
    }

    public var description: String { "\(type):\(name):\(actions.joined(separator: ","))" }
}

public enum ScopeError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)
    case invalidRepository(String)

    public var message: String {
        switch self {
        case .malformed(let s): "scope \"\(s)\" is malformed; expected repository:<name>:<actions>"
        case .invalidRepository(let s): "scope \"\(s)\" names an invalid repository"
        }
    }

    public var description: String { message }
}

/// Builds `WWW-Authenticate` challenge values (server side).
public enum AuthChallenge {
    /// `Bearer realm="...",service="...",scope="..."`; several scopes are joined by spaces, as
    /// docker and distribution do. `error` is e.g. `insufficient_scope`.
    public static func bearer(realm: String, service: String, scopes: [Scope] = [], error: String? = nil) -> String {
        var params = ["realm=\(quote(realm))", "service=\(quote(service))"]
        if !scopes.isEmpty { params.append("scope=\(quote(scopes.map(\.description).joined(separator: " ")))") }
        if let error { params.append("error=\(quote(error))") }
        return "Bearer " + params.joined(separator: ",")
    }

    /// `Basic realm="..."` for deployments without a token endpoint.
    public static func basic(realm: String) -> String { "Basic realm=\(quote(realm)),charset=\"UTF-8\"" }

    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s {
            if c == "\"" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out + "\""
    }
}
