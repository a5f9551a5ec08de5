import HoardHTTP
import HoardOCI
import HoardStore
import HoardUpstream
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The HTTP server: one Hummingbird application answering every front over one store.
public struct HoardServer: Sendable {
    public let settings: ServerSettings
    public let store: Store
    public let logger: Logger

    public init(settings: ServerSettings, store: Store, logger: Logger) {
        self.settings = settings
        self.store = store
        self.logger = logger
    }

    /// Runs until SIGINT or SIGTERM, then finishes in-flight requests and writes pending state.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        AllocatorTuning.apply()
        try await withServices { application in
            try await application.makeApplication(onRunning: onRunning).runService(gracefulShutdownSignals: [.sigterm, .sigint])
        }
        try await store.flushAccessTimes()
        logger.notice("hoard stopped")
    }

    /// Starts what the fronts share (the upstream client, the document worker), lends the
    /// application to `body`, and stops them afterwards.
    public func withServices<R>(_ body: (HoardApplication) async throws -> R) async throws -> R {
        // First, before anything that must be shut down: with a bucket it is shared by every
        // node (see TokenKey), and an unreachable bucket fails the start here.
        let tokenSecret = try await TokenKey.load(for: store)
        let metrics = HoardMetrics()
        let upstream = HTTPUpstream(timeout: settings.upstreamTimeout, maxConcurrent: settings.maxUpstreamFetches, logger: logger, observer: metrics)
        // One thread for decompressing, rewriting and compressing large documents.
        let worker = NIOThreadPool(numberOfThreads: 1)
        worker.start()
        // One thread for bcrypt (CPU-bound, ~80 ms a check): a flood of wrong passwords queues
        // here and takes at most one core, while file reads keep NIOThreadPool.singleton.
        let bcrypt = NIOThreadPool(numberOfThreads: 1)
        bcrypt.start()
        var application = HoardApplication(
            server: self, upstream: upstream, worker: worker, bcrypt: bcrypt, metrics: metrics, tokenSecret: tokenSecret)
        // The fast path's table: the fronts publish what they served, the handler repeats it.
        application.hot = settings.fastPath ? HotTable(rechecksBlobs: store.index.shared != nil) : nil
        do {
            let result = try await body(application)
            try await upstream.shutdown()
            try await worker.shutdownGracefully()
            try await bcrypt.shutdownGracefully()
            return result
        } catch {
            try? await upstream.shutdown()
            try? await worker.shutdownGracefully()
            try? await bcrypt.shutdownGracefully()
            throw error
        }
    }
}

/// Why the server could not be set up, with what to do about it.
public enum ServerSetupError: Error, CustomStringConvertible {
    case registryCredentials(String)
    case upstreamCredentials(String)
    case channel(String, String)

    public var description: String {
        switch self {
        case .registryCredentials(let why): "cannot read upstream registry credentials: \(why)"
        case .upstreamCredentials(let why): "cannot read upstream channel credentials: \(why)"
        case .channel(let name, let why): "channel \(name): \(why)"
        }
    }
}

/// The server with its shared parts running: builds the Hummingbird application.
public struct HoardApplication: Sendable {
    let server: HoardServer
    let upstream: HTTPUpstream
    let worker: NIOThreadPool
    /// bcrypt's own pool (see `withServices`).
    let bcrypt: NIOThreadPool
    /// Counts for `/metrics`.
    let metrics: HoardMetrics
    /// The HMAC secret of the OCI front's bearer tokens (`TokenKey`).
    let tokenSecret: [UInt8]
    /// What the fast path answers (nil: fast path off).
    var hot: HotTable? = nil

    /// A channel's upstream: an OCI mirror for `oci://` and `oci+http://`, else an HTTP channel.
    static func channelUpstream(_ channel: CondaChannel, http: HTTPUpstream, registry: RegistryClient, credentials: CredentialFiles) throws
        -> any ChannelUpstream
    {
        let fallback = channel.fallback.map {
            HTTPChannelUpstream(base: $0, http: http, auth: UpstreamAuth(channel: channel.name, url: $0, configured: nil, files: credentials))
        }
        guard channel.isOCIMirror else {
            let auth = UpstreamAuth(channel: channel.name, url: channel.upstream, configured: channel.upstreamCredential, files: credentials)
            return HTTPChannelUpstream(base: channel.upstream, http: http, auth: auth)
        }
        do {
            return OCIMirrorChannel(endpoint: try RegistryEndpoint(parsing: channel.upstream), client: registry, fallback: fallback)
        } catch {
            throw ServerSetupError.channel(channel.name, "\(error)")
        }
    }

    /// The registry client and one upstream per channel, with the credentials each source gives
    /// (docker config and credential helpers for registries; the channel's config,
    /// RATTLER_AUTH_FILE and ~/.netrc for channels). `serve` and `mirror` build them alike.
    func upstreamClients(channels: [CondaChannel]) throws -> (registry: RegistryClient, channels: [String: any ChannelUpstream]) {
        let registryClient: RegistryClient
        do {
            registryClient = RegistryClient(
                http: upstream,
                credentials: try UpstreamCredentials.load(runner: ProcessCredentialHelperRunner(timeout: server.settings.credentialHelperTimeout)))
        } catch {
            throw ServerSetupError.registryCredentials("\(error)")
        }
        let credentialFiles: CredentialFiles
        do { credentialFiles = try CredentialFiles.load() } catch { throw ServerSetupError.upstreamCredentials(error.description) }
        var upstreams: [String: any ChannelUpstream] = [:]
        for channel in channels {
            upstreams[channel.name] = try Self.channelUpstream(channel, http: upstream, registry: registryClient, credentials: credentialFiles)
        }
        return (registryClient, upstreams)
    }

    /// Builds the application; `onRunning` receives the bound port (useful with port 0).
    /// Throws when the htpasswd file, the token key or the TLS files cannot be used.
    public func makeApplication(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let settings = server.settings
        let store = server.store
        let logger = server.logger
        let fetcher = Fetcher(store: store, upstream: upstream, logger: logger)
        // Offline, no channel has an upstream: nothing can reach one.
        let (registryClient, upstreams) = try upstreamClients(channels: settings.offline ? [] : settings.channels)
        let access: ChannelAccess
        do {
            access = try ChannelAccess(channels: settings.channels, index: store.index, bcrypt: bcrypt, authFailuresPerMinute: settings.oci.authFailuresPerMinute)
        } catch {
            throw ServerSetupError.channel(error.channel, error.description)
        }
        let builder = DocumentBuilder(
            store: store, worker: worker, timeout: settings.upstreamTimeout, maxDocumentSize: settings.maxDocumentSize)
        let documents = DocumentCache(
            store: store, upstreams: upstreams, builder: builder,
            configuredTTL: settings.repodataTTL, logger: logger, offline: settings.offline
        )
        let expectations = PackageExpectations(store: store, documents: documents, worker: worker)
        var conda = CondaFront(
            channels: Dictionary(settings.channels.map { ($0.name, $0) }) { $1 },
            store: store, documents: documents,
            expectations: expectations,
            fetcher: fetcher,
            upstreams: upstreams,
            logger: logger,
            hot: hot,
            access: access,
            derived: DerivedRepodata(
                store: store, builder: builder, filtering: settings.offline && !settings.offlineFullRepodata, logger: logger)
        )
        conda.offline = settings.offline
        let redirect = settings.blobRedirect ? BlobRedirect(store: store) : nil
        conda.redirect = redirect
        let host = settings.host
        if settings.offline && !settings.registries.isEmpty {
            logger.notice("offline: the upstream registries are not pulled through", metadata: [
                "registries": "\(settings.registries.map(\.name).sorted().joined(separator: ","))",
            ])
        }
        let pullThrough = settings.registries.isEmpty || settings.offline ? nil : OCIPullThrough(
            registries: settings.registries, client: registryClient, fetcher: fetcher, store: store,
            tagTTL: settings.registryTagTTL, logger: logger)
        // The channels' OCI mirror answers under /v2/ with OCI headers: it publishes nothing.
        var mirrored = conda
        mirrored.hot = nil
        var oci = try OCIFront(store: store, settings: settings, pullThrough: pullThrough, conda: mirrored, bcrypt: bcrypt, tokenSecret: tokenSecret, logger: logger)
        oci.hot = hot
        oci.redirect = redirect
        var accessLogger = Logger(label: "hoard.access")
        accessLogger.logLevel = logger.logLevel
        let requestLog = RequestLog(metrics: metrics, logger: settings.accessLog ? accessLogger : nil)
        // The page at `/` lists from the record maps the package checks keep (one per snapshot).
        var web = WebFront(
            store: store, channels: conda.channels, documents: documents,
            listings: PackageListings(expectations: expectations, worker: worker),
            registries: settings.registries.map { RegistryView(name: $0.name, url: SecretRedaction.redact($0.endpoint.description)) },
            maxSize: settings.maxSize, library: try WebTemplates.library())
        web.access = access
        let fastPath = hot.map {
            FastPathHandler.Shared(
                table: $0, dates: FastDate(), serverName: "hoard/\(HoardVersion.string)",
                sendfile: settings.tls == nil, log: requestLog)
        }
        return Application(
            router: TokenPrefixRouter(router: HoardRouter(
                store: store, conda: conda, oci: oci, web: web, logger: logger, requestLog: requestLog,
                metrics: MetricsRoute(metrics: metrics, store: store, uploads: oci.uploads)
            ).build()),
            server: try TLSSetup.serverBuilder(settings.tls, fastPath: fastPath),
            configuration: .init(address: .hostname(host, port: settings.port), serverName: "hoard/\(HoardVersion.string)"),
            services: [
                // First: stopped last, once the server drained its requests (see FillDrain).
                FillDrain(fetcher: fetcher),
                MaintenanceService(
                    store: store, settings: settings, uploads: oci.uploads, logger: logger, hot: hot, metrics: metrics,
                    shared: try SharedMaintenance.make(for: store, interval: settings.maintenanceInterval)),
                UploadJanitor(uploads: oci.uploads, interval: .seconds(300)),
            ],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.notice("hoard listening", metadata: [
                    "address": "\(host):\(port)", "root": "\(store.layout.root)", "offline": "\(settings.offline)",
                    "channels": "\(settings.channels.map { "\($0.name)=\(SecretRedaction.redact($0.upstream))\($0.isProtected ? " (protected)" : "")" }.sorted().joined(separator: ","))",
                ])
                await onRunning(port)
            },
            logger: logger
        )
    }
}
