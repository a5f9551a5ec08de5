import ArgumentParser
import HoardStore

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-hash every blob and compare the blob tree with the index.",
        discussion: """
            Reports corrupt blobs (bytes that do not hash to their name), index rows whose blob is \
            missing, orphaned blobs (correct files the index does not name), files that are not \
            blobs, and recorded sizes that are wrong. Exits 1 when it found damage it did not repair.
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
        let store = try await Store.open(root: common.storeRoot(config), logger: logger)
        let verifier = jobs.map { Verifier(store: store, parallelism: $0) } ?? Verifier(store: store)
        let report = try await verifier.run(repair: repair)
        print(report.summary(root: store.layout.root))
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
