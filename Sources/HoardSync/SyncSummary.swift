import Foundation
import Synchronization

/// The counts a sync reports at the end, kept exact under concurrency.
public final class SyncSummary: Sendable {
    public struct Counts: Sendable, Equatable {
        /// Package tags whose manifest (and any missing blob) was pushed.
        public var pushed = 0
        /// Package tags the registry already held as they should be.
        public var present = 0
        /// Package files left out: tags that are invalid even after escaping, files whose stored
        /// bytes are not the repodata's, packages absent from the source.
        public var skipped = 0
        /// Package tags (or repodata) whose push failed.
        public var failed = 0
        /// Blob and manifest bytes sent.
        public var bytesSent: Int64 = 0
        /// Blobs the registry already had or mounted (not uploaded).
        public var blobsReused = 0
        /// Repodata manifests pushed / already current.
        public var repodataPushed = 0
        public var repodataCurrent = 0
    }

    private let state = Mutex((counts: Counts(), failures: [String](), skips: [String]()))

    public init() {}

    public var counts: Counts { state.withLock { $0.counts } }
    public var failures: [String] { state.withLock { $0.failures } }
    public var skips: [String] { state.withLock { $0.skips } }

    func update(_ body: (inout Counts) -> Void) { state.withLock { body(&$0.counts) } }

    func fail(_ what: String) {
        state.withLock {
            $0.counts.failed += 1
            $0.failures.append(what)
        }
    }

    /// A protected channel left out of the run (not a package: the counts stay as they are).
    func skipProtected(_ channel: String) {
        state.withLock {
            $0.skips.append("channel \(channel) is protected and was not published (name it with --channel \(channel) to publish it to an access-controlled registry)")
        }
    }

    func skip(_ what: String) {
        state.withLock {
            $0.counts.skipped += 1
            $0.skips.append(what)
        }
    }

    /// The lines printed at the end.
    public func report(dryRun: Bool, pulling: Bool = false) -> String {
        let c = counts
        var lines: [String] = []
        for s in skips { lines.append("skipped: \(s)") }
        for f in failures { lines.append("FAILED: \(f)") }
        let verb = pulling ? (dryRun ? "would pull" : "pulled") : (dryRun ? "would push" : "pushed")
        lines.append(
            "\(verb) \(c.pushed) package(s), \(c.present) already present, \(c.skipped) skipped, \(c.failed) failed; "
                + "\(pulling ? (dryRun ? "would receive" : "received") : (dryRun ? "would send" : "sent")) \(Self.format(c.bytesSent))"
                + (pulling ? "" : "; \(c.blobsReused) blob(s) already in the registry or mounted; "
                + "repodata: \(c.repodataPushed) \(dryRun ? "to push" : "pushed"), \(c.repodataCurrent) already current"))
        return lines.joined(separator: "\n")
    }

    static func format(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
