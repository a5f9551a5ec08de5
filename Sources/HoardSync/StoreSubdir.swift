import Foundation
import HoardConda
import HoardOCI
import HoardStore
import NIOPosix

/// One channel subdir as the store holds it: the repodata snapshot hoard serves, its records,
/// and which package files are really in the store.
struct StoreSubdir: Sendable {
    let channel: String
    let subdir: String
    let row: RepodataRow
    /// The `repodata.json` hoard serves (relative URLs), exactly.
    let servedDigest: BlobDigest
    let servedSize: Int64
    let zst: (digest: BlobDigest, size: Int64)?
    let records: [String: PackageDigest]
    let stored: [String: (digest: BlobDigest, size: Int64)]

    /// Repodata larger than this is refused (conda-forge's largest is about 300 MB).
    static let maxDocument: Int64 = 1 << 30

    static func load(_ store: Store, channel: String, subdir: String) async throws -> StoreSubdir? {
        guard let row = try await store.index.repodata(channel: channel, label: "", subdir: subdir, name: "repodata.json") else {
            return nil
        }
        let served = row.servedDigest ?? row.digest
        let reader = try await store.open(served)
        let bytes = try await reader.readAll(limit: maxDocument)
        // simdjson over a whole document is CPU work: off the cooperative pool.
        let records = try await NIOThreadPool.singleton.runIfActive {
            try bytes.withUnsafeBytes { try RepodataRecords.build(document: $0) }
        }
        var zst: (BlobDigest, Int64)?
        if let z = row.zstDigest, let size = try await store.blobs.size(of: z) { zst = (z, size) }
        return StoreSubdir(
            channel: channel, subdir: subdir, row: row, servedDigest: served, servedSize: reader.size, zst: zst, records: records,
            stored: try await store.index.condaPackages(channel: channel, subdir: subdir))
    }
}
