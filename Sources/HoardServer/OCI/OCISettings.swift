import HoardStore

/// How the OCI front authenticates and keeps upload sessions.
public struct OCISettings: Sendable {
    /// An htpasswd file (bcrypt entries) of the users who may push and delete; nil: read-only.
    public var htpasswdPath: String?
    /// Whether pulls need credentials too (default: anonymous reads).
    public var authReads: Bool
    /// Upload sessions idle longer than this are removed.
    public var uploadExpiry: Duration
    /// How long issued bearer tokens stay valid.
    public var tokenLifetime: Duration
    /// How long a successful bcrypt check is remembered (bcrypt costs ~80 ms per request).
    public var credentialCacheLifetime: Duration
    /// The repository namespace under which every conda channel is an OCI mirror
    /// (`<namespace>/<channel>/<subdir>/<package>`); read-only.
    public var condaNamespace: String = "conda"
    /// The largest blob one upload may bring; an upload that would pass it is refused (413) and
    /// its session removed.
    public var maxUploadSize: ByteSize = ByteSize(bytes: 10 * 1024 * 1024 * 1024)
    /// Upload sessions open at once (they live on disk until finished or expired); a POST beyond
    /// it gets 429 with Retry-After.
    public var maxUploadSessions: Int = 64
    /// Wrong Basic credentials one client address may send per minute before it gets 429
    /// (without bcrypt running) until the minute is over.
    public var authFailuresPerMinute: Int = 10

    public init(
        htpasswdPath: String? = nil, authReads: Bool = false, uploadExpiry: Duration = .seconds(3600),
        tokenLifetime: Duration = .seconds(300), credentialCacheLifetime: Duration = .seconds(60)
    ) {
        self.htpasswdPath = htpasswdPath
        self.authReads = authReads
        self.uploadExpiry = uploadExpiry
        self.tokenLifetime = tokenLifetime
        self.credentialCacheLifetime = credentialCacheLifetime
    }
}

/// A certificate chain and private key (PEM files) to serve HTTPS instead of HTTP.
public struct TLSFiles: Sendable, Equatable {
    public var certificatePath: String
    public var privateKeyPath: String

    public init(certificatePath: String, privateKeyPath: String) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
    }
}
