import ArgumentParser
import Foundation
import HoardCondaOCI
import HoardStore
import NIOPosix

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write what the store holds for channels as an OCI image-layout tar (for an air-gapped site).",
        discussion: """
            The archive holds the conda-oci-mirror artifacts of every package the store holds (the \
            manifests hoard's OCI view serves: archive, info.tar.gz and info/index.json layers), \
            each subdir's repodata (json, zst, shard index) and cached shards, named in index.json \
            as <channel>/<subdir>/<name>:<tag>, plus <channel>/hoard-store-index:latest with the \
            index rows `hoard import` needs to rebuild the store elsewhere. skopeo \
            (oci-archive:FILE.tar:REF) and oras (--oci-layout) read it. Works on a stopped \
            server's store (it takes the store's lock).
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "The tar file to write (replaced when complete).")
    var output: String

    @Option(name: .long, help: "A channel to export (repeatable). Default: every channel the store holds.")
    var channel: [String] = []

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.makeLogger(config)
        let store = try await common.openStore(config, logger: logger)
        // Extraction, compression and the tar's file writes block: NIO's shared thread pool.
        let exporter = LayoutExporter(artifacts: StoreArtifacts(store: store, worker: .singleton))
        let summary: LayoutExportSummary
        do {
            summary = try await exporter.export(channels: channel, to: output) { logger.debug("\($0)") }
        } catch let error as LayoutError {
            throw ValidationError(error.description)
        }
        for skip in summary.skipped { print("skipped \(skip)") }
        for tag in summary.partial { print("partial \(tag): the repodata lists another archive format the store lacks") }
        print("""
            exported \(summary.channels.joined(separator: ", ")): \(summary.references) references, \(summary.blobs) blobs \
            (\(ByteSize(bytes: summary.bytes))) to \(output)
            """)
    }
}
