import ArgumentParser
import HoardStore

/// `hoard index`: the node's own index, which with a bucket (`--storage s3://…`) is a cache of
/// the names the nodes share there.
struct IndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Maintain this node's index (a cache of the bucket when nodes share one).",
        subcommands: [Rebuild.self]
    )

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Refill this node's index from the bucket the nodes share.",
            discussion: """
                Reads every shared record (conda names, channel documents, tokens, info layers) and \
                lists the bucket's blobs, then makes this node's SQLite index match: after a lost or \
                damaged --root, or to drop what another node evicted. Takes the store lock: run it \
                while this node's hoard serve is stopped. Needs the store's bucket (--storage).
                """)

        @OptionGroup var common: CommonOptions

        func run() async throws {
            let config = try common.loadConfig()
            let logger = try common.makeLogger(config)
            // The store as every command opens it: with the bucket's blobs and shared objects
            // when the storage options name one.
            let store = try await common.openStore(config, logger: logger)
            guard store.index.shared != nil else {
                throw ValidationError("hoard index rebuild refills a node's index from the bucket nodes share: give --storage s3://BUCKET/PREFIX (and --s3-endpoint), or [storage] in the config")
            }
            let report = try await SharedIndexRebuild(store: store).run()
            print("""
                index rebuilt from the bucket: \(report.blobs) blobs, \(report.condaFiles) conda files, \
                \(report.documents) channel documents, \(report.tokens) tokens, \(report.condaInfoLayers) info-layer rows, \
                \(report.oci.repositories) OCI repositories (\(report.oci.manifests) manifests, \(report.oci.tags) tags); \
                \(report.droppedBlobs) cached blobs the bucket no longer holds were dropped
                """)
        }
    }
}
