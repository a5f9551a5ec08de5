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

    /// Opens the store for writing: takes its lock, refuses a missing blob volume, runs recovery.
    func openStore(_ config: HoardConfig, logger: Logger) async throws -> Store {
        try await Store.open(root: storeRoot(config), acceptMissingBlobs: acceptMissingBlobs, logger: logger)
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
