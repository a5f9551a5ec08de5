import ArgumentParser
import Foundation
import HoardCondaOCI
import HoardStore
import NIOPosix

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read an OCI image-layout tar written by `hoard export` (or a conda-oci-mirror layout) into the store.",
        discussion: """
            Every blob is checked against its digest while it is read; every manifest index.json \
            names must be in the archive with all its blobs. An archive with a bad digest, a \
            missing blob, or an entry outside the layout (absolute paths, .., links, anything but \
            oci-layout, index.json and blobs/sha256/<hex>) is refused and nothing is recorded. \
            Importing the same archive twice changes nothing; a document the store holds in a \
            newer copy is kept. Run it with the server stopped (it takes the store's lock).
            """
    )

    @OptionGroup var common: CommonOptions

    @Argument(help: "The tar file to import.")
    var archive: String

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.makeLogger(config)
        let store = try await common.openStore(config, logger: logger)
        let importer = LayoutImporter(store: store, worker: .singleton)
        let summary: LayoutImportSummary
        do {
            summary = try await importer.importArchive(archive) { logger.debug("\($0)") }
        } catch let error as LayoutError {
            print("hoard import: \(error)")
            throw ExitCode(1)
        }
        print("""
            imported \(archive): \(summary.blobs) blobs (\(summary.newBlobs) new, \(ByteSize(bytes: summary.bytes))), \
            \(summary.manifests) manifests checked, \(summary.files) files and \(summary.documents) documents named
            """)
    }
}
