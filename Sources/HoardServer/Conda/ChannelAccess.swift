import Foundation
import HoardOCI
import HoardStore
import Hummingbird
import NIOPosix

/// Who may read which channel. Channels are open unless their config protects them
/// (`readers = "FILE"` or `private = true`); a protected channel is read with a token from
/// `hoard token create` (as conda's `/t/<TOKEN>/` prefix, `Authorization: Bearer`, or the
/// password of Basic credentials) or with a user of its `readers` htpasswd file (Basic).
///
/// Both the conda front and the channel's OCI mirror view (`/v2/<namespace>/<channel>/…`) ask
/// here, and protected channels are never published to the fast path (it checks nothing).
final class ChannelAccess: Sendable {
    /// Protected channels and their readers file (nil: tokens only).
    private let protected: [String: Htpasswd?]
    private let index: StoreIndex
    /// bcrypt's own pool (see `HoardServer.withServices`), never the cooperative pool.
    private let bcrypt: NIOThreadPool
    /// Recent bcrypt outcomes, so a client's every request does not cost ~80 ms.
    private let verdicts = CredentialVerdicts(lifetime: .seconds(60))
    /// Holds back clients that keep sending wrong passwords (bcrypt is the cost to bound).
    private let failures: AuthFailureLimiter

    struct SetupError: Error, CustomStringConvertible {
        let channel: String
        let description: String
    }

    init(channels: [CondaChannel], index: StoreIndex, bcrypt: NIOThreadPool, authFailuresPerMinute: Int) throws(SetupError) {
        var protected: [String: Htpasswd?] = [:]
        for channel in channels where channel.isProtected {
            if let path = channel.readers {
                do { protected[channel.name] = .some(try Htpasswd(path: path)) } catch {
                    throw SetupError(channel: channel.name, description: "readers file: \(error.message)")
                }
            } else {
                protected[channel.name] = .some(nil)
            }
        }
        self.protected = protected
        self.index = index
        self.bcrypt = bcrypt
        failures = AuthFailureLimiter(limit: authFailuresPerMinute)
    }

    func isProtected(_ channel: String) -> Bool { protected[channel] != nil }

    var protectedChannels: [String] { Array(protected.keys) }

    /// What a request presented.
    enum Presented: Sendable {
        case token(String)
        case basic(BasicCredentials)
    }

    enum Verdict: Sendable, Equatable {
        case granted
        /// No credentials, or wrong ones: why, for the 401's body.
        case denied(String)
        /// A token that could not be checked: the shared index (the bucket) is unreachable. A
        /// 503 to retry, not a 401 that tells the client its token is bad.
        case unavailable(backend: String, reason: String)
        /// Too many wrong passwords from this client: wait this many seconds.
        case limited(Int)
    }

    /// The credentials of a conda-front request: the `/t/<TOKEN>/` prefix first, then
    /// `Authorization` (Bearer, or Basic). nil when it carries none; a malformed header is an error.
    static func presented(pathToken: String?, authorization: String?) throws(Refusal) -> Presented? {
        if let pathToken { return .token(pathToken) }
        guard let header = authorization else { return nil }
        if header.lowercased().hasPrefix("bearer ") {
            return .token(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
        }
        do {
            return try BasicCredentials(authorizationHeader: header).map { .basic($0) }
        } catch {
            throw Refusal(message: error.message)
        }
    }

    /// Whether `presented` may read `channel` (open channels: always).
    func check(_ presented: Presented?, channel: String, client: String) async -> Verdict {
        guard let readers = protected[channel] else { return .granted }
        switch presented {
        case nil:
            return .denied("channel \(channel) is private: send a token (https://HOST/t/<TOKEN>/\(channel), or Authorization: Bearer) or the credentials of one of its readers")
        case .token(let token)?:
            return await checkToken(token, channel: channel)
        case .basic(let credentials)?:
            // Tools that only speak Basic (a user:token@ URL) may send a token as the password.
            if ChannelToken.isWellFormed(credentials.password) { return await checkToken(credentials.password, channel: channel) }
            guard let readers else { return .denied("channel \(channel) takes tokens only (hoard token create --channel \(channel)), not passwords") }
            return await checkPassword(credentials, readers: readers, channel: channel, client: client)
        }
    }

    private func checkToken(_ token: String, channel: String) async -> Verdict {
        let invalid = Verdict.denied("invalid token for channel \(channel)")
        guard ChannelToken.isWellFormed(token) else { return invalid }
        // A failing index lookup fails closed: 503 when the storage is unreachable, else 401.
        let found: ChannelTokenRecord?
        do {
            found = try await index.channelToken(hash: ChannelToken.hash(token))
        } catch StoreError.unavailable(let backend, let reason) {
            return .unavailable(backend: backend, reason: reason)
        } catch {
            return invalid
        }
        guard let record = found else { return invalid }
        if record.grants(channel) { return .granted }
        if record.revokedAt != nil { return .denied("token \(record.id) was revoked") }
        if record.channel == channel { return .denied("token \(record.id) has expired") }
        return invalid
    }

    private func checkPassword(_ credentials: BasicCredentials, readers: Htpasswd, channel: String, client: String) async -> Verdict {
        let key = ChannelToken.hash("\(channel)\u{0}\(credentials.username)\u{0}\(credentials.password)")
        let invalid = Verdict.denied("invalid username or password for channel \(channel)")
        switch verdicts.verdict(key) {
        case true?:
            return .granted
        case false?:
            if let seconds = failures.retryAfter(client) { return .limited(seconds) }
            failures.recordFailure(client)
            return invalid
        case nil:
            if let seconds = failures.retryAfter(client) { return .limited(seconds) }
        }
        // A pool that is shutting down refuses the work: the request fails closed.
        let ok = (try? await bcrypt.runIfActive { readers.verify(credentials) }) ?? false
        verdicts.record(key, valid: ok)
        if !ok { failures.recordFailure(client) }
        return ok ? .granted : invalid
    }

    /// A conda-front request to a protected channel without the right credentials: 401 with a
    /// Basic challenge (conda, pip-style clients and browsers answer it), or 429.
    struct Refusal: Error, Sendable {
        let message: String
        var retryAfter: Int? = nil
    }

    /// Throws the HTTP error the conda front answers when `request` may not read `channel`.
    func authorize(channel: String, request: Request, pathToken: String?, client: String) async throws {
        guard isProtected(channel) else { return }
        let verdict: Verdict
        do {
            verdict = await check(try Self.presented(pathToken: pathToken, authorization: request.headers[.authorization]), channel: channel, client: client)
        } catch {
            throw Self.unauthorized(channel, error.message)
        }
        switch verdict {
        case .granted: return
        case .denied(let message): throw Self.unauthorized(channel, message)
        case .unavailable(let backend, let reason): throw StoreError.unavailable(backend: backend, reason: reason)
        case .limited(let seconds):
            throw HTTPError(.tooManyRequests, headers: [.retryAfter: String(seconds)], message: "too many wrong credentials from \(client); retry in \(seconds) s")
        }
    }

    static func unauthorized(_ channel: String, _ message: String) -> HTTPError {
        HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Basic realm=\"hoard channel \(channel)\", charset=\"UTF-8\""], message: message)
    }
}
