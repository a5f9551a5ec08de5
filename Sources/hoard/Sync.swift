import ArgumentParser
import Foundation
import HoardConfig
import HoardOCI
import HoardStore
import HoardSync
import HoardUpstream

/// `hoard sync --registry REGISTRY/NS` (publish the store) and `hoard sync --from REGISTRY/NS`
/// (seed the store from a published mirror).
struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish the store's channels to an OCI registry as a conda mirror, or pull one into the store.",
        discussion: """
            --registry HOST[:PORT]/NAMESPACE pushes every channel (packages, then repodata listing only \
            what the registry holds) in the conda-oci-mirror layout: NAMESPACE/<channel>/<subdir>/<name>:<version>-<build> \
            and NAMESPACE/<channel>/<subdir>/repodata.json:latest. https unless written http://HOST:PORT/NAMESPACE. \
            --from HOST[:PORT]/NAMESPACE --channel NAME pulls such a mirror into the store. \
            Credentials: HOARD_REGISTRY_USER/HOARD_REGISTRY_PASSWORD, else the docker config. \
            Exits 1 when anything failed; re-running finishes the work.
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "The registry and namespace to publish to: HOST[:PORT]/NAMESPACE (https), or http://HOST:PORT/NAMESPACE.")
    var registry: String?

    @Option(name: .long, help: "Pull a published mirror into the store instead: HOST[:PORT]/NAMESPACE (needs --channel).")
    var from: String?

    @Option(name: .long, help: "shallow (default): compare with the inventory at repodata.json:latest; deep: check every tag and blob, repair what is missing.")
    var mode: String = "shallow"

    @Option(name: .long, help: "A channel to sync (repeatable). Default: every channel the store holds, except protected ones (which must be named).")
    var channel: [String] = []

    @Option(name: .long, help: "A subdir to sync (repeatable). Default: every subdir the store holds.")
    var subdir: [String] = []

    @Option(name: .long, help: "NAME[@VERSION_REGEX]: only these packages (repeatable).")
    var package: [String] = []

    @Flag(name: .long, help: "Print the plan with sizes; push (or pull) nothing.")
    var dryRun = false

    @Option(name: .long, help: "Packages pushed at once. Default: 4.")
    var jobs: Int = 4

    @Option(name: .long, help: "Blobs larger than this are uploaded in chunks of this size. Default: 64MiB.")
    var chunkSize: String = "64MiB"

    func validate() throws {
        switch (registry, from) {
        case (nil, nil): throw ValidationError("give --registry HOST/NAMESPACE (push) or --from HOST/NAMESPACE (pull)")
        case (_?, _?): throw ValidationError("--registry and --from exclude each other")
        default: break
        }
        guard (1...256).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 256") }
        guard SyncOptions.Mode(rawValue: mode) != nil else { throw ValidationError("--mode must be shallow or deep, not \(mode)") }
    }

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.makeLogger(config)
        var options = SyncOptions()
        options.mode = SyncOptions.Mode(rawValue: mode) ?? .shallow
        options.channels = channel
        options.protectedChannels = Set(config.channels.filter(\.isProtected).map(\.name))
        options.subdirs = subdir
        options.dryRun = dryRun
        options.jobs = jobs
        do {
            options.packages = try package.map { text throws(SyncError) in try PackageFilter(parsing: text) }
            let size = try ByteSize(parsing: chunkSize)
            guard size.bytes >= 1 << 20 else { throw ValidationError("--chunk-size must be at least 1MiB") }
            options.chunkSize = size.bytes
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("\(error)")
        }
        let endpoint: RegistryEndpoint
        do { endpoint = try RegistryEndpoint(parsing: registry ?? from ?? "") } catch { throw ValidationError(error.description) }
        guard !endpoint.namespace.isEmpty else {
            throw ValidationError("name a namespace: \(endpoint.baseURL)/NAMESPACE (the mirror's repositories live below it)")
        }
        let credentials: UpstreamCredentials
        do { credentials = try UpstreamCredentials.load() } catch { throw ValidationError("registry credentials: \(error)") }
        let http = HTTPUpstream(timeout: config.upstreamTimeout ?? .seconds(60), maxConcurrent: jobs * 4 + 4, logger: logger)
        let client = RegistryClient(http: http, credentials: credentials)
        if registry != nil, !options.namedProtectedChannels.isEmpty {
            // Once per run: publishing a protected channel copies it out of hoard's access control.
            FileHandle.standardError.write(Data("""
                hoard sync: warning: publishing protected channel(s) \(options.namedProtectedChannels.joined(separator: ", ")): \
                \(endpoint) must be access-controlled, or their packages become readable by anyone who reaches it

                """.utf8))
        }
        let store = try await common.openStore(config, logger: logger)
        let progress = SyncProgress()
        let summary: SyncSummary
        do {
            if from != nil {
                summary = try await RegistryPull(store: store, client: client, endpoint: endpoint, options: options, progress: progress).run()
            } else {
                summary = try await RegistrySync(store: store, client: client, endpoint: endpoint, options: options, progress: progress).run()
            }
        } catch {
            try? await http.shutdown()
            FileHandle.standardError.write(Data("hoard sync: \(error)\n".utf8))
            throw ExitCode(1)
        }
        try? await http.shutdown()
        print(summary.report(dryRun: dryRun, pulling: from != nil))
        if summary.counts.failed > 0 { throw ExitCode(1) }
    }
}

/// `hoard health --registry REGISTRY/NS`: does the registry answer, and may hoard push there?
struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that a registry answers and that hoard's credentials may push to it.",
        discussion: "Opens an upload session under NAMESPACE and cancels it; nothing is written. Exits 1 on failure."
    )

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "HOST[:PORT]/NAMESPACE (https), or http://HOST:PORT/NAMESPACE.")
    var registry: String

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.makeLogger(config)
        let endpoint: RegistryEndpoint
        do { endpoint = try RegistryEndpoint(parsing: registry) } catch { throw ValidationError(error.description) }
        let credentials: UpstreamCredentials
        do { credentials = try UpstreamCredentials.load() } catch { throw ValidationError("registry credentials: \(error)") }
        let http = HTTPUpstream(timeout: config.upstreamTimeout ?? .seconds(30), maxConcurrent: 4, logger: logger)
        let client = RegistryClient(http: http, credentials: credentials)
        let probe = "hoard-health"
        do {
            let how = try await client.checkPushAccess(endpoint, repository: probe)
            try? await http.shutdown()
            print("ok: \(endpoint) answers and accepts pushes (\(how) auth)")
        } catch {
            try? await http.shutdown()
            FileHandle.standardError.write(Data("hoard health: \(endpoint): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
