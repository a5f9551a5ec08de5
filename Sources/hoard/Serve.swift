import ArgumentParser
import HoardServer
import HoardConfig
import HoardStore
import HoardUpstream

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server: the conda channels and the OCI registry over the local store.",
        discussion: "Stops cleanly on SIGINT or SIGTERM. GET /healthz answers 200 with a JSON status."
    )

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "Address to listen on. Default: 127.0.0.1 (use 0.0.0.0 to serve other machines).")
    var host: String?

    @Option(name: .long, help: "Port to listen on; 0 picks a free one (logged at start). Default: 8080.")
    var port: Int?

    @Option(name: .long, help: "Keep the store under this size by evicting least recently used blobs, e.g. 50GB.")
    var maxSize: String?

    @Option(name: .long, help: "How often access times are written to the index and, with --max-size, least recently used blobs are evicted, e.g. 30s. Default: 30s.")
    var evictionInterval: String?

    @Flag(name: .long, help: "Write no access-log line per request (metrics still count every request).")
    var noAccessLog = false

    @Option(name: .long, help: ArgumentHelp(
        "Serve a channel NAME pulled through from the conda channel at URL (repeatable). Adds to or replaces the configured channels; conda-forge is served by default.",
        valueName: "name=url"))
    var upstream: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "For channel NAME, fetch packages its upstream lacks (an OCI mirror's repodata lists more than it holds) from the HTTP channel at URL (repeatable).",
        valueName: "name=url"))
    var upstreamFallback: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Pull the registry at URL through under /v2/NAME/ (repeatable), e.g. ghcr.io=https://ghcr.io; http:// only for a plain-http registry.",
        valueName: "name=url"))
    var registry: [String] = []

    @Option(name: .long, help: "How long a tag resolved at an upstream registry is used before it is resolved again, e.g. 5m. Default: 5m.")
    var registryTagTTL: String?

    @Option(name: .long, help: "How long repodata stays fresh before hoard revalidates it, e.g. 10m. Default: upstream's max-age, else 10m.")
    var repodataTTL: String?

    @Option(name: .long, help: "The longest wait for an upstream to answer, or to send more of a body, e.g. 30s. Default: 30s.")
    var upstreamTimeout: String?
    @Option(name: .long, help: "The largest channel document (repodata, shard index, channeldata) accepted from an upstream, counted after decompression, e.g. 512MiB; a larger one is refused with 502. Default: 1GiB.")
    var maxDocumentSize: String?

    @Option(name: .long, help: "Upstream requests in flight at once; more wait in line, and a wait past --upstream-timeout fails (504). Default: 32.")
    var upstreamMaxConcurrent: Int?

    @Option(name: .long, help: "The longest a docker credential helper (credHelpers, credsStore) may run before it is killed and the pull fails naming it, e.g. 10s. Default: 10s.")
    var credentialHelperTimeout: String?

    @Option(name: .long, help: "The largest blob one OCI upload may bring, e.g. 10GiB; a larger one is refused (413). Default: 10GiB.")
    var ociMaxUploadSize: String?

    @Option(name: .long, help: "OCI upload sessions open at once; a new upload beyond it gets 429 with Retry-After. Default: 64.")
    var ociMaxUploadSessions: Int?

    @Option(name: .long, help: "Wrong credentials one client address may send per minute; past it, 429 until the minute ends (no password is checked). Default: 10.")
    var ociAuthFailuresPerMinute: Int?

    @Option(name: .long, help: "An htpasswd file (bcrypt, `htpasswd -B`) of the users who may push to the OCI registry. Without it the registry is read-only.")
    var htpasswd: String?

    @Flag(name: .long, help: "Make pulls from the OCI registry need credentials too (default: anonymous pulls).")
    var ociAuthReads = false

    @Option(name: .long, help: "The OCI namespace under which every conda channel is a read-only mirror (<namespace>/<channel>/<subdir>/<package>). Default: conda.")
    var ociCondaNamespace: String?

    @Flag(name: .long, help: "Answer every request through Hummingbird, without the fast path that serves hot cached GET/HEAD requests on the event loop (for comparison).")
    var noFastPath = false

    @Flag(name: .long, help: "Never contact an upstream: serve only what the store holds, with repodata (and generated shards) listing only the packages it holds; anything else is 404.")
    var offline = false

    @Flag(name: .long, help: "With --offline, serve the last upstream repodata as it was, listing packages the store does not hold.")
    var offlineFullRepodata = false

    @Flag(name: .customLong("s3-redirect"), help: "With --storage, answer GETs of stored packages and OCI blobs with a 307 to a presigned URL of the bucket (15 minutes), so the bytes flow from the bucket to the client, not through hoard.")
    var s3Redirect = false

    @Option(name: .long, help: "Serve HTTPS with this PEM certificate chain (needs --tls-key).")
    var tlsCert: String?

    @Option(name: .long, help: "The PEM private key of --tls-cert.")
    var tlsKey: String?

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.makeLogger(config)
        var settings = ServerSettings()
        settings.host = host ?? config.host ?? settings.host
        settings.port = port ?? config.port ?? settings.port
        guard (0...65535).contains(settings.port) else { throw ValidationError("--port must be from 0 to 65535") }
        settings.maxSize = try maxSize.map { try ByteSize(parsing: $0) } ?? config.maxSize
        settings.maintenanceInterval = try evictionInterval.map { try Self.duration($0, "--eviction-interval") } ?? config.evictionInterval ?? settings.maintenanceInterval
        guard settings.maintenanceInterval > .zero else { throw ValidationError("--eviction-interval must be above zero") }
        settings.accessLog = !noAccessLog && (config.accessLog ?? true)
        for channel in config.channels {
            settings.setChannel(Self.condaChannel(channel))
        }
        for argument in upstream {
            do {
                let channel = try ChannelSetting(argument: argument)
                // A channel the config protects stays protected when the command line moves its upstream.
                let configured = settings.channels.first { $0.name == channel.name }
                settings.setChannel(configured?.replacingUpstream(channel.url, fallback: configured?.fallback) ?? CondaChannel(name: channel.name, upstream: channel.url))
            } catch {
                throw ValidationError("--upstream \(argument): expected \(error.requirement)")
            }
        }
        var fallbacks: [String: String] = [:]
        for fallback in config.fallbacks { fallbacks[fallback.name] = fallback.url }
        for argument in upstreamFallback {
            guard let channel = try? ChannelSetting(argument: argument), channel.url.hasPrefix("http") else {
                throw ValidationError("--upstream-fallback \(argument): expected NAME=URL with an http:// or https:// channel URL")
            }
            fallbacks[channel.name] = channel.url
        }
        for (name, url) in fallbacks {
            guard let channel = settings.channels.first(where: { $0.name == name }) else {
                throw ValidationError("--upstream-fallback \(name)=\(url): no channel \(name) is served; add it with --upstream or [channels]")
            }
            settings.setChannel(channel.replacingUpstream(channel.upstream, fallback: url))
        }
        var registrySettings = config.registries
        for argument in registry {
            do { registrySettings.append(try RegistrySetting(argument: argument)) } catch {
                throw ValidationError("--registry \(argument): expected \(error.requirement)")
            }
        }
        for setting in registrySettings {
            do {
                settings.setRegistry(UpstreamRegistry(name: setting.name, endpoint: try RegistryEndpoint(parsing: setting.url)))
            } catch {
                throw ValidationError("registry \(setting.name): \(error)")
            }
        }
        settings.registryTagTTL = try registryTagTTL.map { try Self.duration($0, "--registry-tag-ttl") } ?? config.registryTagTTL ?? settings.registryTagTTL
        settings.repodataTTL = try repodataTTL.map { try Self.duration($0, "--repodata-ttl") } ?? config.repodataTTL
        settings.upstreamTimeout = try upstreamTimeout.map { try Self.duration($0, "--upstream-timeout") } ?? config.upstreamTimeout ?? settings.upstreamTimeout
        settings.maxDocumentSize = try (maxDocumentSize.map { try Self.size($0, "--max-document-size") } ?? config.maxDocumentSize)?.bytes ?? settings.maxDocumentSize
        settings.maxUpstreamFetches = try Self.positive(upstreamMaxConcurrent, "--upstream-max-concurrent") ?? config.upstreamMaxConcurrent ?? settings.maxUpstreamFetches
        settings.credentialHelperTimeout = try credentialHelperTimeout.map { try Self.duration($0, "--credential-helper-timeout") } ?? config.credentialHelperTimeout ?? settings.credentialHelperTimeout
        settings.oci.maxUploadSize = try ociMaxUploadSize.map { try Self.size($0, "--oci-max-upload-size") } ?? config.ociMaxUploadSize ?? settings.oci.maxUploadSize
        settings.oci.maxUploadSessions = try Self.positive(ociMaxUploadSessions, "--oci-max-upload-sessions") ?? config.ociMaxUploadSessions ?? settings.oci.maxUploadSessions
        settings.oci.authFailuresPerMinute = try Self.positive(ociAuthFailuresPerMinute, "--oci-auth-failures-per-minute") ?? config.ociAuthFailuresPerMinute ?? settings.oci.authFailuresPerMinute
        settings.oci.htpasswdPath = htpasswd ?? config.ociHtpasswd
        settings.oci.authReads = ociAuthReads || (config.ociAuthReads ?? false)
        settings.oci.condaNamespace = ociCondaNamespace ?? config.ociCondaNamespace ?? settings.oci.condaNamespace
        settings.fastPath = !noFastPath && (config.fastPath ?? true)
        settings.offline = offline || (config.offline ?? false)
        settings.offlineFullRepodata = offlineFullRepodata || (config.offlineFullRepodata ?? false)
        if settings.offlineFullRepodata && !settings.offline {
            throw ValidationError("--offline-full-repodata (or [server] offline_full_repodata) needs --offline (or [server] offline = true)")
        }
        let cert = tlsCert ?? config.tlsCert
        let key = tlsKey ?? config.tlsKey
        guard (cert == nil) == (key == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        if let cert, let key { settings.tls = TLSFiles(certificatePath: cert, privateKeyPath: key) }
        settings.blobRedirect = try common.storageSetting(config, redirect: s3Redirect)?.redirect ?? false
        let store = try await common.openStore(config, logger: logger)
        try await HoardServer(settings: settings, store: store, logger: logger).run()
    }

    /// A configured channel with its upstream credential and who may read it.
    static func condaChannel(_ setting: ChannelSetting) -> CondaChannel {
        var channel = CondaChannel(name: setting.name, upstream: setting.url)
        switch setting.upstreamCredentials {
        case .basic(let username, let password)?: channel.upstreamCredential = .basic(username: username, password: password)
        case .bearer(let token)?: channel.upstreamCredential = .bearer(token)
        case nil: break
        }
        channel.readers = setting.readers
        channel.isPrivate = setting.isPrivate
        return channel
    }

    static func positive(_ value: Int?, _ flag: String) throws -> Int? {
        guard let value else { return nil }
        guard value > 0 else { throw ValidationError("\(flag) \(value): expected an integer of at least 1") }
        return value
    }

    /// A size limit: above zero (a limit of nothing is a mistake, not a setting).
    static func size(_ text: String, _ flag: String) throws -> ByteSize {
        guard let size = try? ByteSize(parsing: text), size.bytes > 0 else {
            throw ValidationError("\(flag) \(text): expected a size above zero such as 512MiB or 2GB")
        }
        return size
    }

    static func duration(_ text: String, _ flag: String) throws -> Duration {
        guard let duration = DurationParsing.parse(text) else {
            throw ValidationError("\(flag) \(text): expected a duration such as 30s, 10m or 2h")
        }
        return duration
    }
}
