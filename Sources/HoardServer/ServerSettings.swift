import HoardStore

/// How the server listens and looks after its store; built from defaults, the config file and
/// the command line, in that order.
public struct ServerSettings: Sendable {
    public var host: String
    public var port: Int
    /// Keep the store under this size by evicting least recently used blobs; nil: no limit.
    public var maxSize: ByteSize?
    /// How often collected access times are written and eviction runs.
    public var maintenanceInterval: Duration
    /// The OCI front: auth and upload sessions.
    public var oci = OCISettings()
    /// Serve HTTPS with these files; nil: plain HTTP.
    public var tls: TLSFiles?
    /// Answer hot cached GET/HEAD requests on the event loop ahead of Hummingbird (FastPath/);
    /// off only to compare (`--no-fast-path`).
    public var fastPath = true
    /// One access-log line per request (label hoard.access, level info).
    public var accessLog = true
    /// Never contact an upstream (`--offline`): serve only what the store holds.
    public var offline = false
    /// Offline, serve the last upstream repodata as it was instead of filtering it to the
    /// packages in the store (`--offline-full-repodata`).
    public var offlineFullRepodata = false
    /// Answer GETs of stored packages and OCI blobs with a 307 to a presigned URL of the bucket
    /// (`--s3-redirect`); a backend without direct URLs (files) serves them itself.
    public var blobRedirect = false

    /// The conda channels served, by name.
    public var channels: [CondaChannel]
    /// How long repodata stays fresh; nil: upstream's max-age, else 10 minutes.
    public var repodataTTL: Duration?
    /// The longest wait for an upstream's response head, or stall in its body.
    public var upstreamTimeout: Duration
    /// The largest channel document (repodata, shard index, channeldata) accepted from an
    /// upstream, counted after decompression: a `.zst` that expands past it is refused while it
    /// streams. Bounds the disk and memory a broken or hostile upstream can make hoard spend.
    public var maxDocumentSize: Int64 = ServerSettings.defaultMaxDocumentSize
    /// 1 GiB: conda-forge's largest repodata.json is about 300 MB.
    public static let defaultMaxDocumentSize: Int64 = 1 << 30
    /// Upstream requests in flight at once (response head and body); more wait their turn, and
    /// the wait counts against `upstreamTimeout`.
    public var maxUpstreamFetches: Int = 32
    /// The longest a docker credential helper (`credHelpers`, `credsStore`) may take before it
    /// is killed and the pull fails with an error naming it.
    public var credentialHelperTimeout: Duration = .seconds(10)
    /// Upstream OCI registries pulled through under `/v2/<name>/…`.
    public var registries: [UpstreamRegistry] = []
    /// How long a tag resolved upstream is used before it is resolved again.
    public var registryTagTTL: Duration = .seconds(300)

    public init(
        host: String = "127.0.0.1", port: Int = 8080, maxSize: ByteSize? = nil,
        maintenanceInterval: Duration = .seconds(30), channels: [CondaChannel] = [.condaForge],
        repodataTTL: Duration? = nil, upstreamTimeout: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.maxSize = maxSize
        self.maintenanceInterval = maintenanceInterval
        self.channels = channels
        self.repodataTTL = repodataTTL
        self.upstreamTimeout = upstreamTimeout
    }

    /// Adds a registry, or replaces the one of the same name.
    public mutating func setRegistry(_ registry: UpstreamRegistry) {
        registries.removeAll { $0.name == registry.name }
        registries.append(registry)
    }

    /// Adds a channel, or replaces the one of the same name.
    public mutating func setChannel(_ channel: CondaChannel) {
        channels.removeAll { $0.name == channel.name }
        channels.append(channel)
    }
}

/// hoard's version, reported by `hoard --version` and `/healthz`.
public enum HoardVersion {
    public static let string = "0.1.0"
}
