import Foundation
import HoardHTTP
import HoardOCI
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// How hoard authenticates to upstream registries, the way docker clients do: the first 401 of a
/// registry teaches its challenge (Bearer realm + service, or Basic); Bearer tokens are fetched
/// per repository scope — anonymously, or with the credentials from the environment or the
/// docker config — and reused until they expire.
final class RegistryAuth: Sendable {
    private let http: HTTPUpstream
    private let credentials: UpstreamCredentials?

    private struct CachedToken {
        let value: String
        let expiresAt: Date
    }

    private struct State {
        /// The challenge each registry (by authority) answered with.
        var challenges: [String: WWWAuthenticateChallenge] = [:]
        /// Tokens by `authority scope`.
        var tokens: [String: CachedToken] = [:]
        /// Credentials by authority, looked up once (a helper is a process start).
        var credentials: [String: RegistryCredential?] = [:]
    }

    private let state = Mutex(State())

    /// Where credential lookups run: a docker credential helper is a child process waited for
    /// (up to its timeout) by a blocked thread. A pool of its own, so that neither the cooperative
    /// pool nor `NIOThreadPool.singleton` (whose threads read blob files for every response) ever
    /// waits on a helper. One thread: lookups queue, and each checks the cache again first, so
    /// concurrent requests to one registry start its helper once.
    private let helperPool: NIOThreadPool?

    init(http: HTTPUpstream, credentials: UpstreamCredentials?) {
        self.http = http
        self.credentials = credentials
        if credentials != nil {
            let pool = NIOThreadPool(numberOfThreads: 1)
            pool.start()
            helperPool = pool
        } else {
            helperPool = nil
        }
    }

    deinit {
        helperPool?.shutdownGracefully { _ in }
    }

    /// The `Authorization` value to send to `endpoint` for `scope`, when the registry is known to
    /// want one; nil when it has not asked (yet).
    func authorization(for endpoint: RegistryEndpoint, scope: String) async throws(UpstreamError) -> String? {
        guard let challenge = state.withLock({ $0.challenges[endpoint.authority] }) else { return nil }
        return try await authorization(endpoint, challenge: challenge, scope: scope, forceNew: false)
    }

    /// How the registry asked to be authenticated (`Bearer`, `Basic`), nil when it never asked.
    func challengeScheme(for endpoint: RegistryEndpoint) -> String? {
        state.withLock { $0.challenges[endpoint.authority] }.map { $0.isBearer ? "Bearer" : "Basic" }
    }

    /// After a 401: remembers the registry's challenge and returns the credential to retry with
    /// (a new token; the one sent, if any, was refused or expired). Nil when nothing can help.
    func answer(_ headers: HTTPHeaders, endpoint: RegistryEndpoint, scope: String, url: String) async throws(UpstreamError) -> String? {
        let challenges = WWWAuthenticateChallenge.parse(headers: headers[canonicalForm: "www-authenticate"].map(String.init))
        guard let challenge = challenges.first(where: \.isBearer) ?? challenges.first(where: \.isBasic) else {
            throw .denied(url: url, reason: "HTTP 401 without a Bearer or Basic challenge hoard can answer")
        }
        state.withLock { $0.challenges[endpoint.authority] = challenge }
        return try await authorization(endpoint, challenge: challenge, scope: scope, forceNew: true)
    }

    private func authorization(_ endpoint: RegistryEndpoint, challenge: WWWAuthenticateChallenge, scope: String, forceNew: Bool)
        async throws(UpstreamError) -> String?
    {
        let credential = try await credential(for: endpoint)
        if challenge.isBasic {
            guard case .basic(let basic)? = credential?.kind else {
                throw .denied(url: endpoint.baseURL, reason: "the registry wants Basic credentials; set \(UpstreamCredentials.userVariable)/\(UpstreamCredentials.passwordVariable) or log in with docker")
            }
            return basic.authorizationHeader
        }
        let key = "\(endpoint.authority) \(scope)"
        let now = Date()
        if !forceNew, let cached = state.withLock({ $0.tokens[key] }), cached.expiresAt > now {
            return "Bearer " + cached.value
        }
        let token = try await fetchToken(endpoint, challenge: challenge, scope: scope, credential: credential)
        state.withLock { state in
            if state.tokens.count > 4096 { state.tokens = state.tokens.filter { $0.value.expiresAt > now } }
            state.tokens[key] = CachedToken(value: token.token, expiresAt: token.expiresAt(receivedAt: now))
        }
        return "Bearer " + token.token
    }

    /// GET `realm?service=…&scope=…` (Basic credentials when hoard has some), or the OAuth2
    /// refresh-token POST for an identity token from a credential helper.
    private func fetchToken(_ endpoint: RegistryEndpoint, challenge: WWWAuthenticateChallenge, scope: String, credential: RegistryCredential?)
        async throws(UpstreamError) -> TokenResponse
    {
        guard let realm = challenge.realm, let url = challenge.tokenURL(scopes: [scope]) else {
            throw .denied(url: endpoint.baseURL, reason: "its Bearer challenge names no realm to get a token from")
        }
        // Credentials never travel in clear text to a realm when the registry itself is https.
        let realmIsSecure = realm.lowercased().hasPrefix("https://")
        let mayCarryCredentials = realmIsSecure || endpoint.scheme == "http"
        var request = UpstreamRequest(url: url)
        switch credential?.kind {
        case .basic(let basic)? where mayCarryCredentials:
            request.headers.add(name: "Authorization", value: basic.authorizationHeader)
        case .identityToken(let refresh)? where mayCarryCredentials:
            var form = "grant_type=refresh_token&client_id=hoard&refresh_token=" + Self.formEncode(refresh)
            form += "&scope=" + Self.formEncode(scope)
            if let service = challenge.service { form += "&service=" + Self.formEncode(service) }
            request = UpstreamRequest(
                url: realm, method: .POST, headers: ["Content-Type": "application/x-www-form-urlencoded"], body: Array(form.utf8))
        default:
            break
        }
        let response = try await http.send(request)
        let body = try await response.collect(limit: 1 << 20)
        switch response.status {
        case 200:
            do {
                return try TokenResponse.decode(Array(buffer: body))
            } catch {
                throw .denied(url: realm, reason: "\(error)")
            }
        case 401, 403:
            let who = credential.map { "the credentials from \($0.source)" } ?? "anonymous access"
            throw .denied(url: realm, reason: "HTTP \(response.status) for scope \(scope) with \(who)")
        default:
            throw .status(url: realm, code: response.status)
        }
    }

    private func credential(for endpoint: RegistryEndpoint) async throws(UpstreamError) -> RegistryCredential? {
        if let known = state.withLock({ $0.credentials[endpoint.authority] }) { return known }
        guard let credentials, let helperPool else { return nil }
        let authority = endpoint.authority
        do {
            return try await helperPool.runIfActive { [self] in
                // Another lookup of this registry may have finished while this one queued.
                if let known = state.withLock({ $0.credentials[authority] }) { return known }
                let found = try credentials.credentials(for: authority)
                state.withLock { $0.credentials[authority] = .some(found) }
                return found
            }
        } catch {
            throw .denied(url: endpoint.baseURL, reason: "\(error)")
        }
    }

    /// Form values: everything but RFC 3986's unreserved ASCII encoded.
    static func formEncode(_ text: String) -> String {
        PercentEncoding.encode(text)
    }
}
