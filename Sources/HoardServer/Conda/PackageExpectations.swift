import HoardConda
import HoardStore
import NIOPosix
import Synchronization

/// What a package must hash to, from the channel's own metadata that hoard already holds: the
/// repodata.json snapshot of its subdir, else the shard for its name. Nothing here asks upstream.
final class PackageExpectations: Sendable {
    struct Expectation: Sendable {
        let digest: BlobDigest
        let size: Int64?
    }

    let store: Store
    let documents: DocumentCache
    let worker: NIOThreadPool

    /// The record map of each subdir's current repodata.json, built once per snapshot; a new
    /// snapshot replaces the old map, so memory stays one map per subdir in use.
    private let maps = Mutex<[DocumentKey: (source: BlobDigest, records: Task<[String: PackageDigest], any Error>)]>([:])
    private let shardIndexes = Mutex<[BlobDigest: ShardIndex]>([:])

    init(store: Store, documents: DocumentCache, worker: NIOThreadPool) {
        self.store = store
        self.documents = documents
        self.worker = worker
    }

    /// Why no expectation could be computed although the channel has metadata for the subdir.
    enum Unavailable: Error, CustomStringConvertible {
        /// The repodata.json snapshot hoard holds cannot be read (its blob is gone) or indexed.
        case repodataUnreadable(DocumentSnapshot, any Error)

        var description: String {
            switch self {
            case .repodataUnreadable(let snapshot, let error):
                return "the cached \(snapshot.key) cannot be read to check packages against: \(error)"
            }
        }
    }

    /// The expectation, or nil when the channel's metadata hoard holds does not list the file.
    /// Throws `Unavailable` when it holds repodata.json but cannot read it: the caller must not
    /// go on unverified.
    func expectation(channel: String, label: String, subdir: String, filename: CondaFilename) async throws(Unavailable) -> Expectation? {
        let repodata = DocumentKey(channel: channel, label: label, subdir: subdir, kind: .repodata)
        if let snapshot = try? await documents.cached(repodata) {
            let map: [String: PackageDigest]
            do {
                map = try await records(for: repodata, from: snapshot.row.digest)
            } catch {
                throw .repodataUnreadable(snapshot, error)
            }
            if let record = map[filename.rawValue], let expectation = Self.expectation(record) {
                return expectation
            }
        }
        let shards = DocumentKey(channel: channel, label: label, subdir: subdir, kind: .shardIndex)
        if let snapshot = try? await documents.cached(shards),
           let index = try? await shardIndex(snapshot.row.digest),
           let shardHex = index.shards[filename.name],
           let shardDigest = try? await store.index.condaFile(Self.shardKey(channel: channel, label: label, subdir: subdir, hex: shardHex)),
           let reader = try? await store.open(shardDigest), reader.size <= 64 << 20,
           let record = try? await worker.runIfActive({ try reader.withContiguousBytes { try Shard.records(from: $0)[filename.rawValue] } }) {
            // A shard is small, but its decoding (zstd, MessagePack) is CPU work: the document pool.
            return Self.expectation(record)
        }
        return nil
    }

    /// The index name of a cached shard.
    static func shardKey(channel: String, label: String, subdir: String, hex: String) -> CondaFileKey {
        CondaFileKey(channel: channel, label: label, subdir: subdir, filename: "shards/\(hex).msgpack.zst")
    }

    /// A size no file can have (past `Int64.max`, which repodata's unsigned JSON integers allow)
    /// gives no size expectation; the digest still decides.
    static func expectation(_ record: PackageDigest) -> Expectation? {
        guard let hex = record.sha256Hex, let digest = try? BlobDigest(parsing: hex) else { return nil }
        return Expectation(digest: digest, size: record.size.flatMap { Int64(exactly: $0) })
    }

    /// Every record of the repodata.json blob `digest` (the current snapshot of `key`) by
    /// filename, built once per snapshot; the OCI mirror indexes them by sha256 and repository.
    func records(for key: DocumentKey, from digest: BlobDigest) async throws -> [String: PackageDigest] {
        let task = maps.withLock { maps in
            if let current = maps[key], current.source == digest { return current.records }
            let store = self.store
            let worker = self.worker
            let task = Task {
                let reader = try await store.open(digest)
                // Copying 300 MB and parsing it block: the document pool.
                return try await worker.runIfActive {
                    try reader.withContiguousBytes { bytes in
                        // simdjson wants padding past the end: one padded copy of the document.
                        let buffer = PaddedBuffer(count: bytes.count) { raw in
                            if let base = bytes.baseAddress { raw.baseAddress?.copyMemory(from: base, byteCount: bytes.count) }
                        }
                        return try RepodataRecords.build(buffer)
                    }
                }
            }
            maps[key] = (digest, task)
            return task
        }
        do {
            return try await task.value
        } catch {
            // Not kept: the next call tries again (the blob may be back after a refetch).
            maps.withLock { maps in
                if maps[key]?.records == task { maps.removeValue(forKey: key) }
            }
            throw error
        }
    }

    private func shardIndex(_ digest: BlobDigest) async throws -> ShardIndex {
        if let index = shardIndexes.withLock({ $0[digest] }) { return index }
        let reader = try await store.open(digest)
        // Decoding a shard index (zstd, MessagePack; megabytes) is CPU work: the document pool.
        let index = try await worker.runIfActive { try DocumentBuilder.shardIndex(reader) }
        shardIndexes.withLock { indexes in
            if indexes.count >= 64 { indexes.removeAll() }
            indexes[digest] = index
        }
        return index
    }
}
