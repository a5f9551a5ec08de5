import ArgumentParser
import Foundation
import HoardConfig
import HoardHTTP
import HoardServer
import HoardStore
import HoardUpstream
import NIOHTTP1

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what the store holds and whether the upstreams answer.",
        discussion: """
            Store size and blobs, packages per channel, when each channel document was last \
            fetched and last confirmed by its upstream, and a check of every configured upstream \
            (a HEAD of noarch/repodata.json for a channel, GET /v2/ for a registry). Reads the \
            index read-only, so it runs beside a serving hoard. Exit status 0, or 1 when an \
            upstream check failed.
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: ArgumentHelp("Check the channel NAME at URL too (repeatable), as `serve --upstream`.", valueName: "name=url"))
    var upstream: [String] = []

    @Flag(name: .long, help: "Print JSON (for scripts and monitoring) instead of text.")
    var json = false

    @Flag(name: .long, help: "Do not contact the upstreams (store status only).")
    var noUpstreamCheck = false

    @Option(name: .long, help: "How long each upstream check may take, e.g. 5s. Default: 5s.")
    var timeout: String = "5s"

    /// The report: the store's status plus the upstream checks.
    struct Report: Codable {
        var root: String
        var store: StoreStatus
        var upstreams: [UpstreamHealth]
    }

    struct UpstreamHealth: Codable, Sendable {
        var name: String
        var kind: String
        var url: String
        var healthy: Bool
        var status: Int?
        var latencyMs: Double?
        var error: String?
    }

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.makeLogger(config)
        guard let limit = DurationParsing.parse(timeout), limit > .zero else {
            throw ValidationError("--timeout \(timeout): expected a duration such as 5s")
        }
        let root = common.storeRoot(config)
        let layout = StoreLayout(root: root)
        var store = try await ReadOnlyIndex(path: layout.indexPath, root: root).status()
        // The index keeps the URL each document came from as fetched (a `/t/<TOKEN>/` included).
        for position in store.documents.indices {
            store.documents[position].upstreamURL = store.documents[position].upstreamURL.map(SecretRedaction.redact)
        }
        var targets: [(name: String, kind: String, url: String)] = []
        if !noUpstreamCheck {
            var settings = ServerSettings()
            for channel in config.channels { settings.setChannel(CondaChannel(name: channel.name, upstream: channel.url)) }
            for argument in upstream {
                guard let channel = try? ChannelSetting(argument: argument) else {
                    throw ValidationError("--upstream \(argument): expected NAME=URL")
                }
                settings.setChannel(CondaChannel(name: channel.name, upstream: channel.url))
            }
            for channel in settings.channels.sorted(by: { $0.name < $1.name }) {
                if channel.upstream.hasPrefix("oci") {
                    let endpoint = try? RegistryEndpoint(parsing: channel.upstream)
                    targets.append((channel.name, "channel", (endpoint?.baseURL ?? channel.upstream) + "/v2/"))
                } else {
                    targets.append((channel.name, "channel", channel.upstream + "/noarch/repodata.json"))
                }
            }
            for registry in config.registries {
                let endpoint = try? RegistryEndpoint(parsing: registry.url)
                targets.append((registry.name, "registry", (endpoint?.baseURL ?? registry.url) + "/v2/"))
            }
        }
        let http = HTTPUpstream(timeout: limit, maxConcurrent: 8, logger: logger)
        let checks = await withTaskGroup(of: (Int, UpstreamHealth).self) { group in
            for (position, target) in targets.enumerated() {
                group.addTask { (position, await Self.check(target, http: http)) }
            }
            var results: [(Int, UpstreamHealth)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        try? await http.shutdown()
        let report = Report(root: root, store: store, upstreams: checks)
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(Self.text(report))
        }
        if checks.contains(where: { !$0.healthy }) { throw ExitCode(1) }
    }

    /// One upstream's answer to a cheap request: a channel is healthy on 2xx/3xx, a registry's
    /// `/v2/` also on 401 (it answers, and wants credentials).
    static func check(_ target: (name: String, kind: String, url: String), http: HTTPUpstream) async -> UpstreamHealth {
        // The URL and the error are shown (text and JSON): never with a `/t/<TOKEN>/` or a password.
        var health = UpstreamHealth(name: target.name, kind: target.kind, url: SecretRedaction.redact(target.url), healthy: false)
        let started = ContinuousClock.now
        do {
            let method: HTTPMethod = target.url.hasSuffix("/v2/") ? .GET : .HEAD
            let response = try await http.send(UpstreamRequest(url: target.url, method: method))
            let (seconds, atto) = (ContinuousClock.now - started).components
            health.latencyMs = ((Double(seconds) + Double(atto) / 1e18) * 1e6).rounded() / 1e3
            health.status = response.status
            health.healthy = (200..<400).contains(response.status) || (target.url.hasSuffix("/v2/") && response.status == 401)
            if !health.healthy { health.error = "HTTP \(response.status)" }
        } catch {
            health.error = SecretRedaction.redact("\(error)")
        }
        return health
    }

    static func text(_ report: Report) -> String {
        let store = report.store
        var lines = [
            "store: \(report.root)",
            "  \(store.blobs) blobs, \(ByteSize(bytes: store.bytes)) (pinned: \(store.pinnedBlobs) blobs, \(ByteSize(bytes: store.pinnedBytes)))",
            "  OCI: \(store.ociRepositories) repositories, \(store.ociTags) tags",
            "channels:",
        ]
        if store.channels.isEmpty { lines.append("  (no packages held)") }
        for channel in store.channels {
            lines.append("  \(channel.name): \(channel.packages) packages, \(ByteSize(bytes: channel.packageBytes))")
        }
        lines.append("documents (last fetched, last confirmed by upstream):")
        if store.documents.isEmpty { lines.append("  (none)") }
        let iso = ISO8601DateFormatter()
        for document in store.documents {
            let path = [document.channel, document.label, document.subdir, document.name].filter { !$0.isEmpty }.joined(separator: "/")
            lines.append("  \(path): fetched \(iso.string(from: document.fetchedAt)), confirmed \(iso.string(from: document.validatedAt))")
        }
        if !report.upstreams.isEmpty {
            lines.append("upstreams:")
            for check in report.upstreams {
                let verdict = check.healthy ? "ok" : "FAILED"
                let detail = [check.status.map { "HTTP \($0)" }, check.latencyMs.map { "\($0) ms" }, check.healthy ? nil : check.error]
                    .compactMap { $0 }.joined(separator: ", ")
                lines.append("  \(check.kind) \(check.name) \(check.url): \(verdict) (\(detail))")
            }
        }
        return lines.joined(separator: "\n")
    }
}
