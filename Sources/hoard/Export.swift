import ArgumentParser
import Foundation
import HoardCondaOCI
import HoardConfig
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

    @Option(name: .long, help: "A channel to export (repeatable). Default: every channel the store holds, except protected ones (which must be named).")
    var channel: [String] = []

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.makeLogger(config)
        let store = try await common.openStore(config, logger: logger)
        // Extraction, compression and the tar's file writes block: NIO's shared thread pool.
        let artifacts = StoreArtifacts(store: store, worker: .singleton)
        let exporter = LayoutExporter(artifacts: artifacts)
        // Protected channels (issue 11) leave hoard's access control in an archive: exported
        // only when named, with a warning; the default leaves them out and says so.
        let protected = Set(config.channels.filter(\.isProtected).map(\.name))
        var channels = channel
        var skippedProtected: [String] = []
        if channels.isEmpty && !protected.isEmpty {
            let held = try await artifacts.channels()
            skippedProtected = held.filter { protected.contains($0) }.sorted()
            channels = held.filter { !protected.contains($0) }
            guard !channels.isEmpty else {
                throw ValidationError("""
                    nothing to export: every channel the store holds is protected (\(skippedProtected.joined(separator: ", "))); \
                    name one with --channel to export it
                    """)
            }
        }
        let named = channel.filter { protected.contains($0) }.sorted()
        if !named.isEmpty {
            FileHandle.standardError.write(Data("""
                hoard export: warning: exporting protected channel(s) \(named.joined(separator: ", ")): \
                keep \(output) (and any registry it is loaded into) access-controlled

                """.utf8))
        }
        let summary: LayoutExportSummary
        do {
            summary = try await exporter.export(channels: channels, to: output) { logger.debug("\($0)") }
        } catch let error as LayoutError {
            throw ValidationError(error.description)
        }
        for name in skippedProtected { print("skipped protected channel \(name) (name it with --channel \(name) to export it)") }
        for skip in summary.skipped { print("skipped \(skip)") }
        for tag in summary.partial { print("partial \(tag): the repodata lists another archive format the store lacks") }
        print("""
            exported \(summary.channels.joined(separator: ", ")): \(summary.references) references, \(summary.blobs) blobs \
            (\(ByteSize(bytes: summary.bytes))) to \(output)
            """)
    }
}
