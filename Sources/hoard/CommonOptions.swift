import ArgumentParser
import Foundation
import HoardConfig
import HoardStore
import Logging

/// Options every subcommand takes.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "The store directory. Default: $HOARD_ROOT, else $XDG_CACHE_HOME/hoard, else ~/.cache/hoard.")
    var root: String?

    @Option(name: .long, help: "A TOML config file (see Config/hoard.toml). The command line overrides it.")
    var config: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical. Default: info.")
    var logLevel: String?

    @Option(name: .long, help: "Log format: text (for people) or json (one JSON object a line, for machines). Default: text.")
    var logFormat: String?

    @Flag(name: .long, help: "Shorthand for --log-level debug.")
    var debug = false

    @Flag(name: .long, help: ArgumentHelp(
        "Start even though the blob directory is missing or holds none of the blobs the index names, dropping those rows (pushed OCI content included).",
        discussion: "Without it hoard refuses to start in that case: the blob volume is most likely not mounted."))
    var acceptMissingBlobs = false

    @Option(name: .long, help: ArgumentHelp(
        "Keep blobs and the names nodes share in an S3 bucket, s3://BUCKET/PREFIX (needs --s3-endpoint); --root then holds this node's cache of the bucket's index, its lock and its spool.",
        discussion: "Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN), else the AWS_PROFILE (or default) profile of ~/.aws/credentials. Default: files under --root.",
        valueName: "s3://bucket/prefix"))
    var storage: String?

    @Option(name: .customLong("s3-endpoint"), help: "The S3 server, e.g. https://s3.eu-west-1.amazonaws.com; http:// only for a plain-HTTP one (https when no scheme is given).")
    var s3Endpoint: String?

    @Option(name: .customLong("s3-region"), help: "The bucket's region (SigV4 signing). Default: us-east-1.")
    var s3Region: String?

    @Flag(name: .customLong("s3-path-style"), help: "Address the bucket as ENDPOINT/BUCKET (MinIO, SeaweedFS, Ceph, an IP address) instead of BUCKET.ENDPOINT.")
    var s3PathStyle = false

    @Option(name: .customLong("s3-local-cache"), help: ArgumentHelp(
        "With --storage, how much of the bucket's blobs this node keeps copies of on its own disk (under --root), served from there; 0: none. Default: 10GiB.",
        valueName: "size"))
    var s3LocalCache: String?

    /// The config file's settings, or the empty config when none was given.
    func loadConfig() throws -> HoardConfig {
        guard let path = config ?? ProcessInfo.processInfo.environment["HOARD_CONFIG"] else { return HoardConfig() }
        do {
            return try HoardConfig.load(path: path)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func storeRoot(_ config: HoardConfig) -> String {
        root ?? config.root ?? StoreLayout.defaultRoot()
    }

    /// Where blobs live: the command line's `--storage`/`--s3-*` over the config's `[storage]`;
    /// nil: files under the root. `redirect` is `serve --s3-redirect`.
    func storageSetting(_ config: HoardConfig, redirect: Bool = false) throws -> StorageSetting? {
        let localCache: ByteSize?
        do {
            localCache = try s3LocalCache.map { try ByteSize(parsing: $0) }
        } catch {
            throw ValidationError("--s3-local-cache: expected a size such as 10GiB or 0, not '\(s3LocalCache ?? "")'")
        }
        do {
            return try StorageSetting.resolve(
                config: config.storage, url: storage, endpoint: s3Endpoint, region: s3Region, pathStyle: s3PathStyle, redirect: redirect,
                localCache: localCache)
        } catch {
            let flag = switch error.part {
            case .url: "--storage"
            case .endpoint: "--s3-endpoint"
            case .region: "--s3-region"
            }
            throw ValidationError("\(flag): expected \(error.requirement)")
        }
    }

    /// Opens the store for writing: takes its lock, refuses a missing blob volume, runs recovery.
    /// With a bucket (`--storage`), its blobs and shared names are there and the root caches them.
    /// Every command that opens a store opens it here.
    func openStore(_ config: HoardConfig, logger: Logger) async throws -> Store {
        let root = storeRoot(config)
        guard let setting = try storageSetting(config) else {
            return try await Store.open(root: root, acceptMissingBlobs: acceptMissingBlobs, logger: logger)
        }
        let bucket = try S3Backend(setting, logger: logger)
        return try await Store.open(
            root: root, blobs: bucket.blobStore(root: root, localCache: setting.localCache, logger: logger), shared: bucket.sharedObjects, acceptMissingBlobs: acceptMissingBlobs,
            logger: logger)
    }

    /// The shared index for commands that open the index without the store (`hoard token`
    /// beside a running server); nil for files under the root.
    func sharedIndex(_ config: HoardConfig, logger: Logger) throws -> SharedIndex? {
        guard let setting = try storageSetting(config) else { return nil }
        return SharedIndex(objects: try S3Backend(setting, logger: logger).sharedObjects)
    }

    /// Sets up swift-log once and returns the logger for this command.
    func makeLogger(_ config: HoardConfig, label: String = "hoard") throws -> Logger {
        let text = debug ? "debug" : (logLevel ?? config.logLevel ?? "info")
        guard let level = Logger.Level(rawValue: text) else {
            throw ValidationError("--log-level must be one of \(HoardConfig.logLevels.joined(separator: ", ")), not '\(text)'")
        }
        let format = logFormat ?? config.logFormat ?? "text"
        guard HoardConfig.logFormats.contains(format) else {
            throw ValidationError("--log-format must be text or json, not '\(format)'")
        }
        LoggingSystem.bootstrap { label in
            if format == "json" {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = HoardLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}
