import Foundation
import HoardStore
import TOMLKit

/// Settings read from a TOML config file; every one is optional. The command line overrides the
/// file, the file overrides the built-in defaults. `Config/hoard.toml` documents each key.
public struct HoardConfig: Sendable, Equatable {
    public var root: String?
    public var maxSize: ByteSize?
    public var host: String?
    public var port: Int?
    /// `[server] fast_path`: answer hot cached GET/HEAD requests ahead of Hummingbird.
    public var fastPath: Bool?
    /// `[server] offline`: never contact an upstream.
    public var offline: Bool?
    /// `[server] offline_full_repodata`: offline, serve repodata unfiltered.
    public var offlineFullRepodata: Bool?
    public var logLevel: String?
    /// How often the server writes access times and, with max_size, evicts ([store] eviction_interval).
    public var evictionInterval: Duration?
    /// `text` or `json` ([log] format).
    public var logFormat: String?
    /// Whether to log a line per request ([log] access); default true.
    public var accessLog: Bool?
    /// `[channels]`: channel name → upstream channel URL, in file order.
    public var channels: [ChannelSetting] = []
    public var upstreamTimeout: Duration?
    /// `[upstream] max_document_size`: the largest channel document accepted, decompressed.
    public var maxDocumentSize: ByteSize?
    public var repodataTTL: Duration?
    /// `[oci] htpasswd`: users who may push to the OCI front.
    public var ociHtpasswd: String?
    /// `[oci] auth_reads`: pulls need credentials too.
    public var ociAuthReads: Bool?
    /// `[registries]`: upstream registries pulled through under `/v2/<name>/`, in file order.
    public var registries: [RegistrySetting] = []
    /// `[fallbacks]`: channel name → HTTP channel used for packages its (OCI) upstream lacks.
    public var fallbacks: [ChannelSetting] = []
    /// `[oci] registry_tag_ttl`: how long a tag resolved upstream is used.
    public var registryTagTTL: Duration?
    /// `[oci] conda_namespace`: where the conda channels appear as OCI mirrors.
    public var ociCondaNamespace: String?
    /// `[oci] max_upload_size`: the largest blob one upload may bring.
    public var ociMaxUploadSize: ByteSize?
    /// `[oci] max_upload_sessions`: upload sessions open at once.
    public var ociMaxUploadSessions: Int?
    /// `[oci] auth_failures_per_minute`: wrong credentials per client address before 429.
    public var ociAuthFailuresPerMinute: Int?
    /// `[upstream] max_concurrent`: upstream requests in flight at once.
    public var upstreamMaxConcurrent: Int?
    /// `[upstream] credential_helper_timeout`: the longest a docker credential helper may run.
    public var credentialHelperTimeout: Duration?
    /// `[tls] cert` and `[tls] key`: serve HTTPS with these PEM files.
    public var tlsCert: String?
    public var tlsKey: String?
    /// `[storage]`: blobs and shared names in an S3 bucket; nil: files under the root.
    public var storage: StorageSetting?

    public init() {}

    /// Reads and checks a config file.
    public static func load(path: String) throws(ConfigError) -> HoardConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        return try parse(text, path: path)
    }

    /// Parses config text; `path` only names the file in errors.
    /// `environment` is what `${NAME}` in a channel's settings expands from.
    public static func parse(
        _ text: String, path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> HoardConfig {
        if let misplaced = TOMLPrecheck.firstMisplacedCharacter(in: text) {
            throw .syntax(path: path, line: misplaced.line, column: misplaced.column, message: misplaced.message)
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw .syntax(path: path, line: error.source.begin.line, column: error.source.begin.column, message: error.description)
        } catch {
            throw .syntax(path: path, line: 1, column: 1, message: "\(error)")
        }
        let reader = TableReader(table: table, name: "", path: path, locator: KeyLocator(source: text))
        var config = HoardConfig()
        try reader.expectOnly(["store", "server", "log", "channels", "upstream", "repodata", "oci", "tls", "registries", "fallbacks", "storage"])

        if let store = try reader.table("store") {
            try store.expectOnly(["root", "max_size", "eviction_interval"])
            config.root = try store.string("root").map(Self.expandingTilde)
            config.maxSize = try store.size("max_size")
            config.evictionInterval = try store.duration("eviction_interval")
        }
        if let server = try reader.table("server") {
            try server.expectOnly(["host", "port", "fast_path", "offline", "offline_full_repodata"])
            config.host = try server.string("host")
            config.fastPath = try server.bool("fast_path")
            config.offline = try server.bool("offline")
            config.offlineFullRepodata = try server.bool("offline_full_repodata")
            if let port = try server.int("port") {
                guard (0...65535).contains(port) else { throw server.invalid("port", expected: "an integer from 0 to 65535") }
                config.port = port
            }
        }
        if let log = try reader.table("log") {
            try log.expectOnly(["level", "format", "access"])
            if let format = try log.string("format") {
                guard Self.logFormats.contains(format) else { throw log.invalid("format", expected: "text or json") }
                config.logFormat = format
            }
            config.accessLog = try log.bool("access")
            if let level = try log.string("level") {
                guard Self.logLevels.contains(level) else {
                    throw log.invalid("level", expected: "one of \(Self.logLevels.joined(separator: ", "))")
                }
                config.logLevel = level
            }
        }
        if let channels = try reader.table("channels") {
            for name in Self.orderedKeys(of: "channels", in: text, from: channels.table.keys) {
                config.channels.append(try parseChannel(name, in: channels, environment: environment))
            }
        }
        if let upstream = try reader.table("upstream") {
            try upstream.expectOnly(["timeout", "max_document_size", "max_concurrent", "credential_helper_timeout"])
            config.upstreamTimeout = try upstream.duration("timeout")
            config.maxDocumentSize = try upstream.size("max_document_size", allowZero: false)
            config.upstreamMaxConcurrent = try upstream.positiveInt("max_concurrent")
            config.credentialHelperTimeout = try upstream.duration("credential_helper_timeout")
        }
        if let repodata = try reader.table("repodata") {
            try repodata.expectOnly(["ttl"])
            config.repodataTTL = try repodata.duration("ttl")
        }
        if let fallbacks = try reader.table("fallbacks") {
            for name in Self.orderedKeys(of: "fallbacks", in: text, from: fallbacks.table.keys) {
                guard let url = try fallbacks.string(name) else { continue }
                let setting: ChannelSetting
                do { setting = try ChannelSetting(name: name, url: url) } catch { throw fallbacks.invalid(name, expected: error.requirement) }
                guard url.hasPrefix("http") else { throw fallbacks.invalid(name, expected: "an http:// or https:// channel URL") }
                config.fallbacks.append(setting)
            }
        }
        if let registries = try reader.table("registries") {
            for name in Self.orderedKeys(of: "registries", in: text, from: registries.table.keys) {
                guard let url = try registries.string(name) else { continue }
                do { config.registries.append(try RegistrySetting(name: name, url: url)) } catch {
                    throw registries.invalid(name, expected: error.requirement)
                }
            }
        }
        try parseOCI(reader, into: &config)
        try parseStorage(reader, into: &config)
        return config
    }

    /// Table keys in the order the file lists them (the parser's order is not the file's).
    static func orderedKeys(of table: String, in text: String, from keys: [String]) -> [String] {
        let locator = KeyLocator(source: text)
        return keys.sorted { (locator.line(of: "\(table).\($0)") ?? 0) < (locator.line(of: "\(table).\($1)") ?? 0) }
    }

    public static let logFormats = ["text", "json"]
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    static func expandingTilde(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return home + path.dropFirst()
    }
}

/// Typed access to one table of the config, with errors that name the key and its line.
struct TableReader {
    let table: TOMLTable
    let name: String
    let path: String
    let locator: KeyLocator

    func keyPath(_ key: String) -> String { name.isEmpty ? key : name + "." + key }

    func invalid(_ key: String, expected: String) -> ConfigError {
        .invalidValue(path: path, line: locator.line(of: keyPath(key)), key: keyPath(key), expected: expected)
    }

    /// Unknown keys are errors: a typo must not silently fall back to a default.
    func expectOnly(_ known: [String]) throws(ConfigError) {
        for key in table.keys where !known.contains(key) {
            throw .unknownKey(path: path, line: locator.line(of: keyPath(key)), key: keyPath(key), known: known)
        }
    }

    func table(_ key: String) throws(ConfigError) -> TableReader? {
        guard let value = table[key] else { return nil }
        guard let sub = value.table else { throw invalid(key, expected: "a table ([\(keyPath(key))])") }
        return TableReader(table: sub, name: keyPath(key), path: path, locator: locator)
    }

    func string(_ key: String) throws(ConfigError) -> String? {
        guard let value = table[key] else { return nil }
        guard let string = value.string else { throw invalid(key, expected: "a string in quotes") }
        return string
    }

    func duration(_ key: String) throws(ConfigError) -> Duration? {
        guard let text = try string(key) else { return nil }
        guard let duration = DurationParsing.parse(text) else {
            throw invalid(key, expected: "a duration such as \"30s\", \"10m\" or \"2h\"")
        }
        return duration
    }

    /// A size such as "1GiB"; with `allowZero: false`, zero is refused too (a limit of nothing).
    func size(_ key: String, allowZero: Bool = true) throws(ConfigError) -> ByteSize? {
        guard let text = try string(key) else { return nil }
        guard let size = try? ByteSize(parsing: text), allowZero || size.bytes > 0 else {
            throw invalid(key, expected: allowZero ? "a size such as \"50GB\" or \"2GiB\"" : "a size above zero such as \"512MiB\" or \"2GB\"")
        }
        return size
    }

    func positiveInt(_ key: String) throws(ConfigError) -> Int? {
        guard let value = try int(key) else { return nil }
        guard value > 0 else { throw invalid(key, expected: "an integer of at least 1") }
        return value
    }

    func int(_ key: String) throws(ConfigError) -> Int? {
        guard let value = table[key] else { return nil }
        guard let int = value.int else { throw invalid(key, expected: "an integer") }
        return int
    }
}
