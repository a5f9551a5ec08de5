import Foundation

/// Credentials for an upstream registry (pull-through from ghcr.io and others).
public struct RegistryCredential: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// user + password or personal access token: send as Basic to the token endpoint.
        case basic(BasicCredentials)
        /// A helper's identity (refresh) token (`Username` was `<token>`): OAuth2 exchange needed.
        case identityToken(String)
    }

    public var kind: Kind
    /// Where it came from, for log lines ("HOARD_REGISTRY_USER", "~/.docker/config.json auths[ghcr.io]").
    public var source: String
}

/// `~/.docker/config.json`: `auths` (base64 `auth` or `username`/`password`, `identitytoken`),
/// `credHelpers` per registry and a default `credsStore`.
///
/// Lookup order for a registry: `credHelpers[host]`, then an `auths` entry carrying credentials,
/// then `credsStore`. (Docker consults credsStore before inline auths; hoard prefers inline
/// credentials because an entry written into the file is the more explicit choice.)
public struct DockerConfigCredentials: Sendable {
    public let path: String
    private let auths: [String: AuthEntry]
    private let credHelpers: [String: String]
    private let credsStore: String?
    private let runner: any CredentialHelperRunner

    struct AuthEntry: Decodable, Sendable {
        var auth: String?
        var username: String?
        var password: String?
        var identitytoken: String?
    }

    private struct Wire: Decodable {
        var auths: [String: AuthEntry]?
        var credHelpers: [String: String]?
        var credsStore: String?
    }

    public init(data: Data, path: String = "config.json", runner: any CredentialHelperRunner = ProcessCredentialHelperRunner())
        throws(RegistryCredentialsError)
    {
        let wire: Wire
        do { wire = try JSONDecoder().decode(Wire.self, from: data) } catch {
            throw .configInvalid(path, "not a docker config.json object")
        }
        self.path = path
        var auths: [String: AuthEntry] = [:]
        for (key, entry) in wire.auths ?? [:] { auths[Self.normalizedHost(key)] = entry }
        self.auths = auths
        var helpers: [String: String] = [:]
        for (key, helper) in wire.credHelpers ?? [:] { helpers[Self.normalizedHost(key)] = helper }
        self.credHelpers = helpers
        self.credsStore = wire.credsStore.flatMap { $0.isEmpty ? nil : $0 }
        self.runner = runner
    }

    /// Reads `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`. Nil when absent.
    public static func load(environment: [String: String], runner: any CredentialHelperRunner = ProcessCredentialHelperRunner())
        throws(RegistryCredentialsError) -> DockerConfigCredentials?
    {
        let dir: String
        if let d = environment["DOCKER_CONFIG"], !d.isEmpty {
            dir = d
        } else if let home = environment["HOME"], !home.isEmpty {
            dir = home + "/.docker"
        } else {
            return nil
        }
        let path = dir + "/config.json"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .configInvalid(path, "cannot be read")
        }
        return try DockerConfigCredentials(data: data, path: path, runner: runner)
    }

    /// Credentials for `registry` (`ghcr.io`, `https://ghcr.io`, `localhost:5000`, `docker.io`).
    public func credentials(for registry: String) throws(RegistryCredentialsError) -> RegistryCredential? {
        let host = Self.normalizedHost(registry)
        if let helper = credHelpers[host] {
            return try fromHelper(helper, host: host)
        }
        if let entry = auths[host], let credential = try inline(entry, host: host) {
            return credential
        }
        if let credsStore {
            return try fromHelper(credsStore, host: host)
        }
        return nil
    }

    private func inline(_ entry: AuthEntry, host: String) throws(RegistryCredentialsError) -> RegistryCredential? {
        let source = "\(path) auths[\(host)]"
        if let token = entry.identitytoken, !token.isEmpty {
            return RegistryCredential(kind: .identityToken(token), source: source)
        }
        if let auth = entry.auth, !auth.isEmpty {
            guard let data = Data(base64Encoded: auth), let text = String(data: data, encoding: .utf8),
                let colon = text.firstIndex(of: ":")
            else {
                throw .configInvalid(path, "auths[\(host)].auth is not base64 of user:password")
            }
            return RegistryCredential(
                kind: .basic(BasicCredentials(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))),
                source: source)
        }
        if let user = entry.username, let password = entry.password, !user.isEmpty {
            return RegistryCredential(kind: .basic(BasicCredentials(username: user, password: password)), source: source)
        }
        return nil
    }

    private func fromHelper(_ helper: String, host: String) throws(RegistryCredentialsError) -> RegistryCredential? {
        guard let out = try runner.get(helper: helper, serverURL: Self.helperServerURL(host)) else { return nil }
        let source = "docker-credential-\(helper) (\(host))"
        if out.username == "<token>" { return RegistryCredential(kind: .identityToken(out.secret), source: source) }
        return RegistryCredential(kind: .basic(BasicCredentials(username: out.username, password: out.secret)), source: source)
    }

    /// Docker Hub's historic key; every other registry is keyed by host[:port].
    static let dockerHubKey = "index.docker.io"

    /// `https://ghcr.io/v2/` → `ghcr.io`; Docker Hub aliases → `index.docker.io`.
    public static func normalizedHost(_ text: String) -> String {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        if let r = s.range(of: "://") { s = s[r.upperBound...] }
        if let slash = s.firstIndex(of: "/") { s = s[..<slash] }
        let host = s.lowercased()
        switch host {
        case "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com": return dockerHubKey
        default: return host
        }
    }

    /// The server URL helpers are asked about: Docker Hub keeps its legacy URL, others the host.
    static func helperServerURL(_ host: String) -> String {
        host == dockerHubKey ? "https://index.docker.io/v1/" : host
    }
}

/// Upstream credentials for hoard: environment first, then the docker config.
///
/// `HOARD_REGISTRY_USER` + `HOARD_REGISTRY_PASSWORD` are hoard's own, explicit choice and win over
/// the docker config. They apply to every upstream registry, unless `HOARD_REGISTRY_HOST` (a
/// comma-separated host list) restricts them, so a token meant for ghcr.io is not sent elsewhere.
public struct UpstreamCredentials: Sendable {
    public static let userVariable = "HOARD_REGISTRY_USER"
    public static let passwordVariable = "HOARD_REGISTRY_PASSWORD"
    public static let hostVariable = "HOARD_REGISTRY_HOST"

    private let environmentCredential: BasicCredentials?
    private let environmentHosts: Set<String>?
    public let dockerConfig: DockerConfigCredentials?

    public init(environment: [String: String], dockerConfig: DockerConfigCredentials?) throws(RegistryCredentialsError) {
        let user = environment[Self.userVariable].flatMap { $0.isEmpty ? nil : $0 }
        let password = environment[Self.passwordVariable].flatMap { $0.isEmpty ? nil : $0 }
        switch (user, password) {
        case (let u?, let p?): environmentCredential = BasicCredentials(username: u, password: p)
        case (nil, nil): environmentCredential = nil
        case (nil, _?): throw .environmentIncomplete("\(Self.passwordVariable) is set but \(Self.userVariable) is not")
        case (_?, nil): throw .environmentIncomplete("\(Self.userVariable) is set but \(Self.passwordVariable) is not")
        }
        environmentHosts = environment[Self.hostVariable].flatMap { value in
            let hosts = value.split(separator: ",").map { DockerConfigCredentials.normalizedHost(String($0)) }
            return hosts.isEmpty ? nil : Set(hosts)
        }
        self.dockerConfig = dockerConfig
    }

    /// Reads the process environment and the docker config it points at.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        runner: any CredentialHelperRunner = ProcessCredentialHelperRunner()
    ) throws(RegistryCredentialsError) -> UpstreamCredentials {
        try UpstreamCredentials(
            environment: environment, dockerConfig: try DockerConfigCredentials.load(environment: environment, runner: runner))
    }

    public func credentials(for registry: String) throws(RegistryCredentialsError) -> RegistryCredential? {
        let host = DockerConfigCredentials.normalizedHost(registry)
        if let environmentCredential, environmentHosts?.contains(host) ?? true {
            return RegistryCredential(kind: .basic(environmentCredential), source: Self.userVariable)
        }
        return try dockerConfig?.credentials(for: host)
    }
}

public enum RegistryCredentialsError: Error, Equatable, Sendable, CustomStringConvertible {
    case configInvalid(String, String)
    case helperNotFound(String, [String])
    case helperFailed(String, String)
    case helperTimedOut(String, Duration)
    case environmentIncomplete(String)

    public var message: String {
        switch self {
        case .configInvalid(let path, let why): "docker config \(path): \(why)"
        case .helperNotFound(let program, let dirs):
            "credential helper \(program) not found in \(dirs.joined(separator: ":")); install it or remove it from the docker config"
        case .helperFailed(let program, let why): "credential helper \(program) failed: \(why)"
        case .helperTimedOut(let program, let timeout):
            "credential helper \(program) did not answer within \(timeout) and was killed; check it works (`echo HOST | \(program) get`) or raise [upstream] credential_helper_timeout"
        case .environmentIncomplete(let why): why
        }
    }

    public var description: String { message }
}
