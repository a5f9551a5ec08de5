import HoardOCI
import HoardStore
import Hummingbird

/// A protected channel's OCI mirror view (`/v2/<namespace>/<channel>/…`) is read as the registry
/// token flow has it: the 401 names `/token` and the repository's pull scope, `/token` grants
/// that scope to the channel's readers and token holders only (Basic credentials), and the
/// bearer token it issues opens the repository. Basic credentials and hoard channel tokens are
/// also taken directly, as on the conda front.
struct ChannelMirrorAccess: Sendable {
    let namespace: String
    let access: ChannelAccess

    /// The protected channel a repository belongs to; nil for everything else.
    func protectedChannel(of repository: String) -> String? {
        guard repository.hasPrefix(namespace + "/") else { return nil }
        let channel = String(repository.dropFirst(namespace.count + 1).prefix { $0 != "/" })
        return access.isProtected(channel) ? channel : nil
    }

    /// Throws the 401 (Bearer challenge) or 429 for a read of `channel`'s mirror without what
    /// it takes. Writes never get here: the mirror refuses them first.
    func authorize(_ route: OCIRoute, channel: String, request: Request, client: String, auth: OCIAuthenticator) async throws(OCIAuthFailure) {
        let header = request.headers[.authorization]
        var presented: ChannelAccess.Presented?
        if let header, header.lowercased().hasPrefix("bearer ") {
            let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            if !ChannelToken.isWellFormed(token) {
                // A token from /token: it must grant pull on this very repository.
                guard let claims = try? auth.tokens.verify(token), let repository = route.repository, claims.allows("pull", on: repository) else {
                    throw auth.challenge(route, request: request, error: "insufficient_scope", message: "the token does not grant pull on this private channel's repository")
                }
                return
            }
            presented = .token(token)
        } else if let header {
            do {
                presented = try BasicCredentials(authorizationHeader: header).map { .basic($0) }
            } catch {
                throw auth.challenge(route, request: request, error: nil, message: error.message)
            }
        }
        switch await access.check(presented, channel: channel, client: client) {
        case .granted:
            return
        case .denied(let message):
            throw auth.challenge(route, request: request, error: presented == nil ? nil : "invalid_token", message: message)
        case .unavailable(let backend, let reason):
            throw OCIAuthFailure(
                error: ErrorResponses.ociError(.unavailable(backend: backend, reason: reason)), challenge: nil,
                retryAfter: StorageUnavailable.retryAfterSeconds)
        case .limited(let seconds):
            throw OCIAuthFailure(
                error: OCIError(.tooManyRequests, "too many wrong credentials from \(client); retry in \(seconds) s"), challenge: nil, retryAfter: seconds)
        }
    }

    /// What `/token` grants for the scopes of protected channels: pull for those the Basic
    /// credentials (a reader, or a channel token as password) may read. nil: no scope is one of
    /// a protected channel (the usual token flow decides).
    /// `openReads`: whether anyone may pull other repositories (no `--oci-auth-reads`).
    func grants(_ scopes: [Scope], request: Request, client: String, openReads: Bool) async -> TokenDecision? {
        let guarded = scopes.filter { $0.type == "repository" && protectedChannel(of: $0.name) != nil }
        guard !guarded.isEmpty else { return nil }
        var presented: ChannelAccess.Presented?
        var subject = ""
        if let header = request.headers[.authorization], let credentials = try? BasicCredentials(authorizationHeader: header) {
            presented = .basic(credentials)
            subject = credentials.username
        }
        var granted: [Scope] = []
        for scope in guarded {
            guard let channel = protectedChannel(of: scope.name), let pull = scope.restricted(to: ["pull"]) else { continue }
            switch await access.check(presented, channel: channel, client: client) {
            case .granted: granted.append(pull)
            case .denied(let message): return .refuse(message)
            case .unavailable(let backend, let reason): return .unavailable(StoreError.unavailable(backend: backend, reason: reason))
            case .limited(let seconds): return .limited(seconds)
            }
        }
        // Other scopes in the same request get what anyone gets: pull, when reads are open.
        let open = !openReads ? [] : scopes.filter { $0.type == "repository" && protectedChannel(of: $0.name) == nil }.compactMap { $0.restricted(to: ["pull"]) }
        return .issue(subject: subject, scopes: granted + open)
    }

    enum TokenDecision: Sendable {
        case issue(subject: String, scopes: [Scope])
        case refuse(String)
        case limited(Int)
        /// The credentials could not be checked (the storage is unreachable): retry later.
        case unavailable(StoreError)
    }
}
