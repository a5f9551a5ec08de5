import ArgumentParser
import Foundation
import HoardStore

struct GC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Evict least recently used blobs until the store fits under --max-size; on a bucket shared by several nodes, also remove garbage.",
        discussion: """
            Pinned blobs (content pushed to the OCI front, which exists nowhere else) are never evicted. \
            With a store shared by several nodes, gc takes the maintenance lease (it refuses while a node holds it), \
            evicts when a size is given, then removes blobs no name points to (older than an hour), expired upload \
            sessions and abandoned multipart uploads.
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "The size to fit under, e.g. 50GB or 2GiB. Default: [store] max_size from the config.")
    var maxSize: String?

    @Flag(name: .long, help: "Say what would be removed and remove nothing (a store shared by several nodes).")
    var dryRun = false

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.makeLogger(config)
        let limit = try maxSize.map({ try ByteSize(parsing: $0) }) ?? config.maxSize
        let store = try await common.openStore(config, logger: logger)
        if let shared = try SharedMaintenance.make(for: store, interval: .seconds(30)) {
            try await collect(shared, limit: limit)
            return
        }
        guard let limit else {
            throw ValidationError("give --max-size (e.g. --max-size 50GB) or set [store] max_size in the config")
        }
        guard !dryRun else {
            throw ValidationError("--dry-run is for a store shared by several nodes; on one node, gc only evicts down to --max-size")
        }
        let report = try await Evictor(store: store, limit: limit).run()
        print(Self.describe(report, limit: limit, dryRun: false))
    }

    /// Eviction (with a limit) and garbage collection on a shared bucket, under the lease.
    private func collect(_ shared: SharedMaintenance, limit: ByteSize?) async throws {
        if case .heldByOther(let holder) = try await shared.lease.acquire() {
            throw ValidationError("node \(holder) holds the maintenance lease: it runs eviction and garbage collection; run gc again once it has stopped")
        }
        do {
            if let limit {
                let report = try await shared.evictor(limit: limit).run(dryRun: dryRun)
                print(Self.describe(report, limit: limit, dryRun: dryRun))
            }
            let report = try await shared.collector().run(dryRun: dryRun)
            print(Self.describe(report))
        } catch {
            try? await shared.lease.release()
            throw error
        }
        try await shared.lease.release()
    }

    static func describe(_ report: EvictionReport, limit: ByteSize, dryRun: Bool) -> String {
        var text = """
            \(dryRun ? "would evict" : "evicted") \(report.removedBlobs) blobs (\(ByteSize(bytes: report.removedBytes))); \
            \(report.remainingBlobs) blobs (\(ByteSize(bytes: report.remainingBytes))) remain under the limit of \(limit)
            """
        if report.remainingBytes > limit.bytes {
            text += "\nthe store is still over the limit: what remains is pinned"
        }
        return text
    }

    static func describe(_ report: GarbageCollectionReport) -> String {
        let verb = report.dryRun ? "would remove" : "removed"
        var lines = [
            "garbage collection: \(verb) \(report.removedBlobs.count) blobs no name points to (\(ByteSize(bytes: report.removedBytes))); "
                + "kept \(report.namedBlobs) named blobs and \(report.youngUnnamedBlobs) unnamed ones younger than an hour",
            "\(verb) \(report.expiredUploads) expired upload sessions and \(report.staleAccessObjects) access-time objects of nodes gone for 30 days"
                + (report.dryRun ? "" : "; removed \(report.leftovers) abandoned uploads or staging objects"),
        ]
        lines += report.removedBlobs.map { "  \($0)" }
        return lines.joined(separator: "\n")
    }
}
