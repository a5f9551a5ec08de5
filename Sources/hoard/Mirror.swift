import ArgumentParser
import Foundation
import HoardConda
import HoardConfig
import HoardMirror
import HoardServer
import HoardStore
import NIOCore
import NIOPosix

struct Mirror: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fill the store ahead of time: a channel's packages (a selection or all), or exactly what a lock file names.",
        discussion: """
            Packages are pulled through as `serve` would pull them (same upstreams, same checks) and \
            stay in the store for serving, offline included. A re-run fetches only what is missing. \
            Exits non-zero when anything failed. Stop `serve` on the same --root first (one process \
            holds a store).
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "The channel to mirror (a configured channel, or one given with --upstream).")
    var channel: String?

    @Option(name: .customLong("subdir"), help: ArgumentHelp("A subdir to mirror (repeatable). Default: this machine's platform and noarch.", valueName: "subdir"))
    var subdirs: [String] = []

    @Option(name: .customLong("package"), help: ArgumentHelp(
        "A conda match spec of packages to mirror (repeatable), e.g. 'numpy >=2,<3', 'python 3.12.*', 'openssl=3.*=*_0'. Default: every package.",
        valueName: "spec"))
    var packages: [String] = []

    @Option(name: .long, help: "Keep only the newest N versions of each package name per subdir (all their builds), dependencies included.")
    var latest: Int?

    @Flag(name: .long, help: "Add, transitively, every dependency the same subdirs and noarch can satisfy.")
    var withDeps = false

    @Option(name: .long, help: "Mirror exactly the conda packages of a pixi.lock, conda-lock.yml or @EXPLICIT file, each checked against the digest it records.")
    var lockfile: String?

    @Option(name: .long, help: "Downloads at once. Default: 8.")
    var jobs: Int = 8

    @Option(name: .long, help: ArgumentHelp(
        "Pull channel NAME from the conda channel at URL (repeatable), as for serve.", valueName: "name=url"))
    var upstream: [String] = []

    @Option(name: .long, help: "The longest wait for an upstream to answer, or to send more of a body, e.g. 30s. Default: 30s.")
    var upstreamTimeout: String?

    @Option(name: .long, help: "The largest channel document accepted from an upstream, after decompression, e.g. 512MiB. Default: 1GiB.")
    var maxDocumentSize: String?

    func validate() throws {
        guard (channel == nil) != (lockfile == nil) else { throw ValidationError("give either --channel NAME or --lockfile FILE") }
        if lockfile != nil, !subdirs.isEmpty || !packages.isEmpty || latest != nil || withDeps {
            throw ValidationError("--subdir, --package, --latest and --with-deps select from a channel; a lock file already names its packages")
        }
        guard jobs >= 1 && jobs <= 256 else { throw ValidationError("--jobs \(jobs): expected 1 to 256") }
        if let latest, latest < 1 { throw ValidationError("--latest \(latest): expected at least 1") }
        for subdir in subdirs {
            do { _ = try Subdir(subdir) } catch { throw ValidationError("--subdir \(subdir): \(error)") }
        }
    }

    func run() async throws {
        let config = try common.loadConfig()
        // The command's own lines say what was fetched: upstream's info-level log lines would
        // only repeat them (and break the progress line); warnings and errors still show.
        var options = common
        if options.logLevel == nil && !options.debug && config.logLevel == nil { options.logLevel = "warning" }
        let logger = try options.makeLogger(config)
        var settings = ServerSettings()
        for channel in config.channels { settings.setChannel(CondaChannel(name: channel.name, upstream: channel.url)) }
        for argument in upstream {
            do {
                let channel = try ChannelSetting(argument: argument)
                settings.setChannel(CondaChannel(name: channel.name, upstream: channel.url))
            } catch {
                throw ValidationError("--upstream \(argument): expected \(error.requirement)")
            }
        }
        for fallback in config.fallbacks {
            guard let channel = settings.channels.first(where: { $0.name == fallback.name }) else { continue }
            settings.setChannel(CondaChannel(name: channel.name, upstream: channel.upstream, fallback: fallback.url))
        }
        settings.repodataTTL = config.repodataTTL
        settings.upstreamTimeout = try upstreamTimeout.map { try Serve.duration($0, "--upstream-timeout") } ?? config.upstreamTimeout ?? settings.upstreamTimeout
        settings.maxDocumentSize = try (maxDocumentSize.map { try Serve.size($0, "--max-document-size") } ?? config.maxDocumentSize)?.bytes ?? settings.maxDocumentSize
        settings.maxUpstreamFetches = max(config.upstreamMaxConcurrent ?? settings.maxUpstreamFetches, jobs + 2)
        settings.credentialHelperTimeout = config.credentialHelperTimeout ?? settings.credentialHelperTimeout
        if let channel, !settings.channels.contains(where: { $0.name == channel }) {
            throw ValidationError("--channel \(channel): no such channel is configured; add it with --upstream \(channel)=URL or [channels] in the config")
        }
        let lockText: String? = try lockfile.map { path in
            do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ValidationError("--lockfile \(path): cannot read it: \(error.localizedDescription)")
            }
        }
        let store = try await common.openStore(config, logger: logger)
        let report = try await HoardServer(settings: settings, store: store, logger: logger).withServices { application in
            let filler = try application.channelFiller()
            let output = MirrorOutput(interactive: isatty(STDERR_FILENO) == 1)
            var plan = MirrorPlan()
            if let lockText {
                plan = await MirrorPlanner.lockFile(lockText, filler: filler, output: output)
            } else if let channel {
                let specs: [MatchSpec]
                do { specs = try packages.map { try MatchSpec($0) } } catch { throw ValidationError("--package: \(error)") }
                let selection = MirrorSelection(specs: specs, latest: latest, withDeps: withDeps)
                let chosen = subdirs.isEmpty ? [MirrorPlanner.nativeSubdir, "noarch"] : subdirs
                plan = await MirrorPlanner.channel(channel, subdirs: chosen, selection: selection, filler: filler, output: output)
            }
            return await MirrorRun(filler: filler, jobs: jobs, output: output).run(plan)
        }
        try await store.flushAccessTimes()
        if !report.succeeded { throw ExitCode(1) }
    }
}

/// What to fill, and what already went wrong while planning it.
struct MirrorPlan: Sendable {
    struct Item: Sendable {
        let channel: String
        let label: String
        let subdir: String
        let filename: CondaFilename
        /// What the bytes must hash to (a lock file's digest); nil: the channel's repodata decides.
        let expected: BlobDigest?

        var display: String { [channel, label.isEmpty ? nil : "label/\(label)", subdir, filename.rawValue].compactMap { $0 }.joined(separator: "/") }
    }

    var items: [Item] = []
    /// Problems that make the run fail (unreadable repodata, specs matching nothing, lock entries
    /// that cannot be checked or placed).
    var failures: [String] = []
}

/// Turns `--channel` selections and lock files into plans.
enum MirrorPlanner {
    /// This machine's conda subdir (linux-64, linux-aarch64, osx-arm64...).
    static var nativeSubdir: String {
        #if os(Linux)
        let os = "linux"
        #elseif os(macOS)
        let os = "osx"
        #else
        let os = "win"
        #endif
        #if arch(x86_64)
        return "\(os)-64"
        #elseif arch(arm64)
        return os == "linux" ? "linux-aarch64" : "\(os)-arm64"
        #else
        return "\(os)-64"
        #endif
    }

    static func channel(_ channel: String, subdirs: [String], selection: MirrorSelection, filler: ChannelFiller, output: MirrorOutput) async -> MirrorPlan {
        var plan = MirrorPlan()
        var selection = selection
        selection.subdirs = Set(subdirs)
        var loaded = subdirs
        if selection.withDeps && !loaded.contains("noarch") { loaded.append("noarch") }
        var records: [PackageRecord] = []
        for subdir in loaded {
            do {
                let buffer = try await filler.repodata(channel: channel, subdir: subdir)
                // Decoding repodata (hundreds of MB on conda-forge) is CPU work: NIO's shared
                // blocking pool, not the cooperative one.
                let parsed = try await NIOThreadPool.singleton.runIfActive {
                    try RepodataPackages.parse(Data(buffer.readableBytesView), subdir: subdir)
                }
                if !parsed.skipped.isEmpty {
                    output.note("\(channel)/\(subdir): \(parsed.skipped.count) repodata entries skipped (unparsable name, version or filename)")
                }
                records += parsed.records
            } catch {
                plan.failures.append("\(channel)/\(subdir): cannot load repodata.json: \(error)")
            }
        }
        let result = selection.select(from: records)
        for spec in result.unmatched { plan.failures.append("--package '\(spec)': nothing in \(subdirs.joined(separator: ", ")) matches") }
        for (dependency, record) in result.unsatisfied { output.note("dependency '\(dependency)' of \(record): nothing loaded satisfies it") }
        for (dependency, record) in result.invalidDependencies { output.note("dependency '\(dependency)' of \(record) is not a match spec; skipped") }
        plan.items = result.records.map { .init(channel: channel, label: "", subdir: $0.subdir, filename: $0.filename, expected: nil) }
        return plan
    }

    static func lockFile(_ text: String, filler: ChannelFiller, output: MirrorOutput) async -> MirrorPlan {
        var plan = MirrorPlan()
        let lock: LockFile
        do { lock = try LockFile(parsing: text) } catch {
            plan.failures.append("\(error)")
            return plan
        }
        output.note("lock file (\(lock.format.rawValue)): \(lock.packages.count) conda packages, \(lock.skipped.count) other entries skipped")
        let channels = filler.configuredChannels.map { (name: $0.name, upstream: $0.upstream) }
        // md5-only entries are checked against the channel's repodata, once per subdir.
        var digests: [String: [String: PackageDigest]] = [:]
        for package in lock.packages {
            let location: LockedLocation
            do { location = try LockedLocation.locate(package.url, channels: channels) } catch {
                plan.failures.append("\(error)")
                continue
            }
            var expected = package.sha256
            if expected == nil {
                let key = "\(location.channel)/\(location.label)/\(location.subdir)"
                if digests[key] == nil {
                    do {
                        digests[key] = try await filler.digests(channel: location.channel, label: location.label, subdir: location.subdir)
                    } catch {
                        plan.failures.append("\(package.url): cannot load the channel's repodata to check it: \(error)")
                        continue
                    }
                }
                let record = digests[key]?[location.filename.rawValue]
                if let md5 = package.md5 {
                    guard let record, let recorded = record.md5, let sha256 = record.sha256 else {
                        plan.failures.append("\(package.url): the lock file gives only an md5, and the channel's repodata has no md5 and sha256 for this file to check it against")
                        continue
                    }
                    guard recorded.hex == md5 else {
                        plan.failures.append("\(package.url): digest mismatch: the lock file says md5 \(md5), the channel's repodata says \(recorded.hex); nothing fetched")
                        continue
                    }
                    expected = sha256
                }
            }
            plan.items.append(.init(channel: location.channel, label: location.label, subdir: location.subdir, filename: location.filename, expected: expected))
        }
        return plan
    }
}
