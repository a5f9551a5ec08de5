import ArgumentParser
import Foundation
import HoardStore

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-hash every blob and compare the blob tree with the index.",
        discussion: """
            Reports corrupt blobs (bytes that do not hash to their name), index rows whose blob is \
            missing, orphaned blobs (correct files the index does not name), files that are not \
            blobs, and recorded sizes that are wrong. Exits 1 when it found damage it did not repair.

            Without --repair it only reads: it runs beside a live `hoard serve` (no lock taken, no \
            recovery run, nothing written or created), so it suits cron. A blob file without an \
            index row is reported as orphaned only if it still has none a moment later (an ingest \
            names its file just before it commits its row). With --repair it takes the store's \
            lock, so stop the server first.
            """
    )

    @OptionGroup var common: CommonOptions

    @Flag(name: .long, help: "Remove corrupt blobs and foreign files, drop rows of missing blobs, adopt orphaned blobs.")
    var repair = false

    @Option(name: .long, help: "How many blobs to hash at once. Default: the number of cores.")
    var jobs: Int?

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.makeLogger(config)
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        let parallelism = jobs ?? ProcessInfo.processInfo.activeProcessorCount
        if try common.storageSetting(config) != nil {
            // The checks compare one root's files with its index; a node's root is only a cache
            // of the bucket's, so every blob there would look orphaned. Say so rather than report it.
            throw ValidationError(
                "hoard verify checks blob files under --root; with --storage the blobs are in the bucket (each verified before it became visible there), which verify does not check yet")
        }
        let verifier: Verifier
        if repair {
            do {
                verifier = Verifier(store: try await common.openStore(config, logger: logger), parallelism: parallelism)
            } catch StoreError.locked(let root, let holder) {
                throw VerifyRefused(root: root, holder: holder)
            }
        } else {
            verifier = try Verifier(root: common.storeRoot(config), parallelism: parallelism)
        }
        let report = try await verifier.run(repair: repair)
        print(report.summary(root: verifier.layout.root))
        if report.foundDamage && !report.repaired { throw ExitCode(1) }
    }
}

extension VerifyReport {
    func summary(root: String) -> String {
        var lines = ["verified \(checkedBlobs) blobs (\(ByteSize(bytes: checkedBytes))) in \(root)"]
        func list(_ title: String, _ items: [String]) {
            guard !items.isEmpty else { return }
            lines.append("\(title): \(items.count)\(repaired ? " (repaired)" : "")")
            lines += items.prefix(20).map { "  \($0)" }
            if items.count > 20 { lines.append("  ... and \(items.count - 20) more") }
        }
        list("corrupt", corrupt.map(\.description))
        list("missing", missing.map(\.description))
        list("orphaned", orphaned.map(\.description))
        list("foreign files", foreign)
        list("wrong recorded size", wrongSize.map(\.description))
        if !foundDamage { lines.append("store is clean") }
        else if !repaired { lines.append("damage found; run again with --repair to fix it") }
        return lines.joined(separator: "\n")
    }
}

/// `verify --repair` on a store a server holds.
struct VerifyRefused: Error, CustomStringConvertible {
    let root: String
    let holder: String

    var description: String {
        """
        verify --repair changes the store, and the store at \(root) is in use by another hoard process (\(holder)). \
        Stop that server and run it again, or drop --repair to check the live store read-only.
        """
    }
}
