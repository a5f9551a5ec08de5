import ArgumentParser
import Foundation
import HoardConfig
import HoardStore
import Logging

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

            With --storage (a bucket several nodes share) it checks the bucket instead of a root: \
            every blob is read and re-hashed, and every blob a name, a channel document or pushed \
            OCI content needs must be there. It only reads (beside live nodes); --repair is refused.
            """
    )

    @OptionGroup var common: CommonOptions

    @Flag(name: .long, help: "Remove corrupt blobs and foreign files, drop rows of missing blobs, adopt orphaned blobs.")
    var repair = false

    @Option(name: .long, help: "How many blobs to hash at once. Default: the number of cores (for a bucket, at least 4).")
    var jobs: Int?

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.makeLogger(config)
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        let parallelism = jobs ?? ProcessInfo.processInfo.activeProcessorCount
        if let setting = try common.storageSetting(config) {
            try await verifyBucket(setting, root: common.storeRoot(config), logger: logger)
            return
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

extension Verify {
    /// With `--storage`: the bucket's blobs and shared index, read-only beside live nodes. A
    /// node's root is only a cache of the bucket, so the root's files are not what is checked.
    func verifyBucket(_ setting: StorageSetting, root: String, logger: Logger) async throws {
        if repair {
            throw ValidationError(
                "--repair works on the files under a root; a bucket is shared by live nodes, so verify only reads it. It prints what to do about what it finds")
        }
        let bucket = try S3Backend(setting, logger: logger)
        // No spool is made (verify writes nothing) and no local copies are kept.
        let blobs = bucket.blobStore(root: root, localCache: ByteSize(bytes: 0), logger: logger)
        // Reading a bucket waits on the network more than on the CPU.
        let parallelism = jobs ?? max(4, ProcessInfo.processInfo.activeProcessorCount)
        let report = try await SharedVerifier(blobs: blobs, objects: bucket.sharedObjects, parallelism: parallelism).run()
        print(report.summary(bucket: setting.url))
        if report.foundDamage { throw ExitCode(1) }
    }
}

extension SharedVerifyReport {
    func summary(bucket: String) -> String {
        var lines = ["verified \(checkedBlobs) blobs (\(ByteSize(bytes: checkedBytes))) in \(bucket); \(records) records of the shared index read"]
        func list(_ title: String, _ items: [String], hint: String) {
            guard !items.isEmpty else { return }
            lines.append("\(title): \(items.count) (\(hint))")
            lines += items.prefix(20).map { "  \($0)" }
            if items.count > 20 { lines.append("  ... and \(items.count - 20) more") }
        }
        list("corrupt", corrupt.map { "blobs/sha256/\($0.hex)" },
             hint: "delete these objects: a pull-through fetches them again on the next request; pushed content must be pushed again")
        list("missing", missing.map { entry in
            entry.names.isEmpty ? entry.digest.description : "\(entry.digest) named by \(entry.names.map(\.path).joined(separator: ", "))"
        }, hint: "the shared index needs these blobs and the bucket does not hold them: was something deleted from the bucket by hand?")
        list("foreign objects under blobs/", foreign, hint: "not blobs; hoard never writes these")
        if unreferenced > 0 {
            lines.append("\(unreferenced) blobs no record names (not damage: garbage collection removes them once they are an hour old)")
        }
        if !foundDamage { lines.append("bucket is clean") }
        return lines.joined(separator: "\n")
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
