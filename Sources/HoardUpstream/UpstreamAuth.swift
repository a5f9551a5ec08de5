import Foundation
import HoardHTTP

/// What hoard sends to one channel's upstream, and where it came from. Sources, first match
/// wins, as users already keep them: the channel's own config table, the `/t/<TOKEN>/` already in
/// the channel URL, rattler's `RATTLER_AUTH_FILE`, then `~/.netrc`. Requests to another host
/// (a repodata `base_url`, shards elsewhere) get that host's entry of the files, never the
/// channel's configured credential.
public struct UpstreamAuth: Sendable {
    public let channel: String
    let channelHost: String?
    let configured: UpstreamCredential?
    let urlHasToken: Bool
    let files: CredentialFiles

    public init(channel: String, url: String, configured: UpstreamCredential?, files: CredentialFiles) {
        self.channel = channel
        self.configured = configured
        self.files = files
        let parts = URLParts(url)
        channelHost = parts?.hostAndPort
        urlHasToken = parts?.path.hasPrefix("/t/") ?? false
    }

    /// No credentials at all (tests, OCI fallbacks configured without any).
    public static func none(channel: String) -> UpstreamAuth {
        UpstreamAuth(channel: channel, url: "", configured: nil, files: CredentialFiles())
    }

    /// The credential for a request to `url`, and its source.
    public func credential(for url: String) -> (credential: UpstreamCredential?, source: CredentialSource) {
        guard let parts = URLParts(url) else { return (nil, CredentialSource("no credentials")) }
        let sameHost = parts.hostAndPort == channelHost
        if sameHost, let configured {
            return (configured, CredentialSource("the credentials in [channels.\(channel)] of the config"))
        }
        if sameHost, urlHasToken {
            return (nil, CredentialSource("the /t/<redacted>/ token in the channel URL"))
        }
        if let file = files.rattler, let (key, found) = file.credential(host: parts.host, hostAndPort: parts.hostAndPort) {
            return (found, CredentialSource("credentials from RATTLER_AUTH_FILE \(file.path), entry \"\(key)\""))
        }
        if let netrc = files.netrc, let found = netrc.credential(host: parts.host) {
            return (.basic(username: found.login, password: found.password), CredentialSource("credentials from \(netrc.path), machine \(found.machine)"))
        }
        return (nil, CredentialSource(
            "no credentials (none in [channels.\(channel)], \(files.rattler.map { "RATTLER_AUTH_FILE \($0.path)" } ?? "RATTLER_AUTH_FILE (unset)") or \(files.netrcPath) for \(parts.host))"))
    }

    /// `request` with its credential added; the source for errors.
    public func authorize(_ request: UpstreamRequest) -> (UpstreamRequest, CredentialSource) {
        var request = request
        let (credential, source) = credential(for: request.url)
        credential?.apply(to: &request)
        return (request, source)
    }

    /// The error for a 401 or 403: names the channel and the credential source, so an operator
    /// knows what to fix; the URL is shown redacted.
    public func refusal(url: String, status: Int, source: CredentialSource) -> UpstreamError {
        .unauthorized(channel: channel, url: url, code: status, source: source.description)
    }
}

/// The credential files read once at start: `RATTLER_AUTH_FILE` and `~/.netrc` (or `$NETRC`).
public struct CredentialFiles: Sendable {
    public let rattler: RattlerAuthFile?
    public let netrc: Netrc?
    let netrcPath: String

    public init(rattler: RattlerAuthFile? = nil, netrc: Netrc? = nil, netrcPath: String = "~/.netrc") {
        self.rattler = rattler
        self.netrc = netrc
        self.netrcPath = netrcPath
    }

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Reads the files the environment names; a missing `~/.netrc` is no error, an unreadable
    /// or malformed file is.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws(Invalid) -> CredentialFiles {
        var rattler: RattlerAuthFile?
        if let path = environment["RATTLER_AUTH_FILE"], !path.isEmpty {
            do { rattler = try RattlerAuthFile(path: path) } catch { throw Invalid(description: error.description) }
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let netrcPath = environment["NETRC"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.netrc"
        let netrc: Netrc?
        do { netrc = try Netrc.load(path: netrcPath) } catch {
            throw Invalid(description: "cannot read \(netrcPath): \((error as NSError).localizedDescription)")
        }
        return CredentialFiles(rattler: rattler, netrc: netrc, netrcPath: netrcPath)
    }
}
