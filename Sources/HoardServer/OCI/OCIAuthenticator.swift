import Foundation
import HoardOCI
import Hummingbird
import NIOPosix
import Synchronization

/// Who a request acts as once its credentials were checked.
enum OCIPrincipal: Sendable {
    case anonymous
    /// A user of the htpasswd file (Basic credentials checked).
    case user(String)
    /// A bearer token issued by `/token`.
    case token(TokenClaims)
}

/// Why a request was refused: a 401 (or 429), answered by `ErrorResponses.oci`.
struct OCIAuthFailure: Error, Sendable {
    let error: OCIError
    let challenge: String?
    /// Seconds the client must wait: too many wrong credentials (429), or the storage that
    /// holds channel tokens unreachable (503).
    var retryAfter: Int? = nil
}

/// Decides who may do what on the OCI front.
///
/// Writes (push, delete) need a user of the htpasswd file, by Basic credentials or by a bearer
/// token from `/token`; without an htpasswd file the front is read-only. Reads are anonymous unless
/// `authReads` is set. Bad credentials are always refused, even where none were needed.
final class OCIAuthenticator: Sendable {
    static let service = "hoard"

    let htpasswd: Htpasswd?
    let authReads: Bool
    let tokens: TokenIssuer
    let tls: Bool
    /// Recent bcrypt outcomes, right and wrong, by credential hash.
    private let verdicts: CredentialVerdicts
    /// Holds back clients that keep sending wrong credentials.
    private let failures: AuthFailureLimiter
    /// Where bcrypt runs: a pool of its own (one thread, made in `HoardServer.withServices`), never the cooperative pool, the
    /// event loops or `NIOThreadPool.singleton` that file reads use.
    private let bcrypt: NIOThreadPool
    /// Completed bcrypt checks, for tests and logs. Set last in `init`, after everything that
    /// can throw: Swift 6.3.1's release build crashes (SIL ownership verifier, CopyPropagation)
    /// destroying an `Atomic` already set when a class initializer throws.
    private let bcryptRuns: Atomic<Int>

    init(settings: OCISettings, tokenSecret: [UInt8], tls: Bool, bcrypt: NIOThreadPool) throws {
        htpasswd = try settings.htpasswdPath.map { (path) throws(HtpasswdError) in try Htpasswd(path: path) }
        authReads = settings.authReads
        tokens = try TokenIssuer(secret: tokenSecret, service: Self.service, lifetime: TimeInterval(settings.tokenLifetime.components.seconds))
        verdicts = CredentialVerdicts(lifetime: settings.credentialCacheLifetime)
        failures = AuthFailureLimiter(limit: settings.authFailuresPerMinute)
        self.bcrypt = bcrypt
        self.tls = tls
        bcryptRuns = Atomic<Int>(0)
    }

    /// How many bcrypt checks have run since start.
    var bcryptCount: Int { bcryptRuns.load(ordering: .relaxed) }

    /// Throws `OCIAuthFailure` when `route` is not allowed for this request.
    func authorize(_ route: OCIRoute, request: Request, client: String) async throws(OCIAuthFailure) {
        let action = route.requiredAction
        let isWrite = action == "push" || action == "delete"
        let principal = try await principal(of: request, route: route, client: client)
        // Clients such as skopeo learn how to authenticate only from the `GET /v2/` probe: when
        // pushes need credentials, an anonymous probe gets the challenge (as on Docker Hub and
        // docker-registry). Pulls stay open: anonymous tokens from /token, or no token at all.
        if case .apiVersionCheck = route, case .anonymous = principal, htpasswd != nil {
            throw challenge(route, request: request, error: nil, message: "authenticate to push; pulls are open (anonymous tokens from /token)")
        }
        guard isWrite || authReads else { return }
        if isWrite && htpasswd == nil {
            throw OCIAuthFailure(
                error: OCIError(.unauthorized, "this hoard is read-only: pushes and deletes are enabled by starting it with --htpasswd FILE (or [oci] htpasswd in the config)"),
                challenge: nil)
        }
        switch principal {
        case .user:
            return
        case .token(let claims):
            guard let repository = route.repository, let action else { return }  // /v2/ and _catalog
            if claims.allows(action, on: repository) { return }
            throw challenge(route, request: request, error: "insufficient_scope", message: "the token does not grant \(action) on \(repository)")
        case .anonymous:
            throw challenge(route, request: request, error: nil, message: isWrite ? "pushing and deleting need credentials" : "this registry needs credentials")
        }
    }

    /// Checks the request's credentials, if any: Basic against htpasswd, Bearer against our key.
    /// `client` is the peer's address, which wrong credentials are counted against.
    func principal(of request: Request, route: OCIRoute?, client: String) async throws(OCIAuthFailure) -> OCIPrincipal {
        guard let header = request.headers[.authorization] else { return .anonymous }
        if header.lowercased().hasPrefix("bearer ") {
            let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            do {
                return .token(try tokens.verify(token))
            } catch {
                throw challenge(route, request: request, error: "invalid_token", message: error.message)
            }
        }
        let credentials: BasicCredentials?
        do {
            credentials = try BasicCredentials(authorizationHeader: header)
        } catch {
            throw challenge(route, request: request, error: nil, message: error.message)
        }
        // Another scheme, or Basic on a read-only hoard: nobody to check against.
        guard let credentials, htpasswd != nil else { return .anonymous }
        switch await check(credentials, client: client) {
        case .valid:
            return .user(credentials.username)
        case .invalid:
            throw challenge(route, request: request, error: nil, message: "invalid username or password")
        case .limited(let seconds):
            throw OCIAuthFailure(
                error: OCIError(.tooManyRequests, "too many wrong credentials from \(client); retry in \(seconds) s"),
                challenge: nil, retryAfter: seconds)
        }
    }

    enum CredentialCheck: Equatable {
        case valid
        case invalid
        /// Too many wrong credentials from this client lately: wait this many seconds.
        case limited(Int)
    }

    /// Checks Basic credentials: a verdict from the last `credentialCacheLifetime` if there is
    /// one, else bcrypt (~80 ms at cost 10) on the bcrypt pool, unless the client has sent too
    /// many wrong ones this minute.
    func check(_ credentials: BasicCredentials, client: String) async -> CredentialCheck {
        guard let htpasswd else { return .invalid }
        let key = OCIDigest.compute(.sha256, of: Array("\(credentials.username)\u{0}\(credentials.password)".utf8)).hex
        switch verdicts.verdict(key) {
        case true?:
            return .valid
        case false?:
            if let seconds = failures.retryAfter(client) { return .limited(seconds) }
            failures.recordFailure(client)
            return .invalid
        case nil:
            if let seconds = failures.retryAfter(client) { return .limited(seconds) }
        }
        // A pool that is shutting down refuses the work: the request fails closed.
        let ok = (try? await bcrypt.runIfActive { htpasswd.verify(credentials) }) ?? false
        bcryptRuns.add(1, ordering: .relaxed)
        verdicts.record(key, valid: ok)
        if !ok { failures.recordFailure(client) }
        return ok ? .valid : .invalid
    }

    /// A 401 with the Bearer challenge pointing at this server's `/token`.
    func challenge(_ route: OCIRoute?, request: Request, error: String?, message: String) -> OCIAuthFailure {
        var scopes: [Scope] = []
        if let route, let repository = route.repository, let action = route.requiredAction {
            let actions = action == "pull" ? ["pull"] : action == "push" ? ["pull", "push"] : [action]
            scopes = [Scope(name: repository.value, actions: actions)]
        }
        let challenge = AuthChallenge.bearer(realm: realm(for: request), service: Self.service, scopes: scopes, error: error)
        return OCIAuthFailure(error: OCIError(.unauthorized, message), challenge: challenge)
    }

    /// `<scheme>://<host the client used>/token`.
    func realm(for request: Request) -> String {
        let host = request.head.authority ?? "127.0.0.1"
        return (tls ? "https://" : "http://") + host + "/token"
    }
}
