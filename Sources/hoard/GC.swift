import ArgumentParser
import HoardStore

struct GC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Evict least recently used blobs until the store fits under --max-size.",
        discussion: "Pinned blobs (content pushed to the OCI front, which exists nowhere else) are never evicted."
    )

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "The size to fit under, e.g. 50GB or 2GiB. Default: [store] max_size from the config.")
    var maxSize: String?

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.makeLogger(config)
        guard let limit = try maxSize.map({ try ByteSize(parsing: $0) }) ?? config.maxSize else {
            throw ValidationError("give --max-size (e.g. --max-size 50GB) or set [store] max_size in the config")
        }
        let store = try await common.openStore(config, logger: logger)
        let report = try await Evictor(store: store, limit: limit).run()
        print("""
            evicted \(report.removedBlobs) blobs (\(ByteSize(bytes: report.removedBytes))); \
            \(report.remainingBlobs) blobs (\(ByteSize(bytes: report.remainingBytes))) remain under the limit of \(limit)
            """)
        if report.remainingBytes > limit.bytes {
            print("the store is still over the limit: what remains is pinned")
        }
    }
}
