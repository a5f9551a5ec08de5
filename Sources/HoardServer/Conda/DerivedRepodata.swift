import Foundation
import HoardConda
import HoardStore
import Logging
import NIOCore
import Synchronization

/// The channel documents hoard makes itself from the repodata it holds:
/// - offline (`--offline` without `--offline-full-repodata`), repodata.json (and its `.zst`, and
///   current_repodata.json) filtered to the packages in the store, so a solver never picks one it
///   cannot download;
/// - CEP-16 sharded repodata (index + shards) generated from the repodata it serves, when
///   offline and when the upstream has none (an OCI mirror, a conda-index channel without
///   `--write-shards`), so sharded clients keep their fast path.
/// Derived copies are built once per source snapshot (and, filtered, per set of stored packages),
/// single-flight, on the document pool; generated shards are stored as the channel's shards.
final class DerivedRepodata: Sendable {
    let store: Store
    let builder: DocumentBuilder
    /// Whether repodata is filtered to the stored packages (offline, not full).
    let filtering: Bool
    let logger: Logger
    /// How long a filtered copy is served before the store's package list is read again (the
    /// list only changes offline when eviction removes a package).
    let recheckSeconds: Double = 30

    private struct Filtered {
        let source: BlobDigest
        let present: Set<String>
        var checkedAt: Double
        let task: Task<DocumentSnapshot, any Error>
    }

    /// A generated shard index and the shards it names.
    struct Generated: Sendable {
        let index: DocumentSnapshot
        let shardHexes: Set<String>
    }

    private let filtered = Mutex<[DocumentKey: Filtered]>([:])
    /// repodata.json made from shards, by repodata key (source: the upstream shard index's digest).
    private let fromShards = Mutex<[DocumentKey: Filtered]>([:])
    private let generated = Mutex<[DocumentKey: (source: BlobDigest, task: Task<Generated, any Error>)]>([:])

    init(store: Store, builder: DocumentBuilder, filtering: Bool, logger: Logger) {
        self.store = store
        self.builder = builder
        self.filtering = filtering
        self.logger = logger
    }

    // MARK: Filtered repodata

    /// The repodata (or current_repodata) snapshot to serve: `snapshot` itself unless filtering,
    /// else its copy holding only the records whose package file the store holds.
    func served(_ snapshot: DocumentSnapshot) async throws -> DocumentSnapshot {
        guard filtering, snapshot.key.kind.isRewrittenJSON else { return snapshot }
        return try await memoized(in: filtered, key: snapshot.key, source: snapshot.served.digest) { present in
            try await self.filter(snapshot, keeping: present)
        }
    }

    /// One derived copy per key, single-flight: reused while its source and the store's package
    /// list are unchanged (that list is read again after `recheckSeconds`) and its blobs are
    /// still held; made again (by `make`, from the list of stored package files) otherwise.
    private func memoized(
        in copies: borrowing Mutex<[DocumentKey: Filtered]>, key: DocumentKey, source: BlobDigest,
        make: @escaping @Sendable (Set<String>) async throws -> DocumentSnapshot
    ) async throws -> DocumentSnapshot {
        let now = Date().timeIntervalSince1970
        if let entry = copies.withLock({ $0[key] }), entry.source == source, now - entry.checkedAt < recheckSeconds,
           let copy = try? await entry.task.value, await intact(copy) {
            return copy
        }
        let present = try await store.index.condaPackageFilenames(channel: key.channel, label: key.label, subdir: key.subdir)
        let task: Task<DocumentSnapshot, any Error> = copies.withLock { entries in
            if var entry = entries[key], entry.source == source, entry.present == present {
                entry.checkedAt = now
                entries[key] = entry
                return entry.task
            }
            let task = Task { try await make(present) }
            entries[key] = Filtered(source: source, present: present, checkedAt: now, task: task)
            return task
        }
        do {
            let copy = try await task.value
            if await intact(copy) { return copy }
            // A blob of the copy was evicted: build it again.
            let again = Task { try await make(present) }
            copies.withLock { $0[key] = Filtered(source: source, present: present, checkedAt: now, task: again) }
            return try await again.value
        } catch {
            copies.withLock { entries in if entries[key]?.task == task { entries.removeValue(forKey: key) } }
            throw error
        }
    }

    private func intact(_ snapshot: DocumentSnapshot) async -> Bool {
        for blob in [snapshot.served, snapshot.zst].compactMap({ $0 }) where blob.memory == nil {
            guard (try? await store.existingBlob(blob.digest)) != nil else { return false }
        }
        return true
    }

    private func filter(_ snapshot: DocumentSnapshot, keeping present: Set<String>) async throws -> DocumentSnapshot {
        let reader = try await store.open(snapshot.served.digest)
        // Made up front: the worker below cannot wait for the store.
        let writer = try await store.makeWriter()
        let kept: Int
        do {
            // Scanning and copying up to 300 MB block: the document pool, mapped bytes.
            kept = try await builder.worker.runIfActive { () throws -> Int in
                try reader.withContiguousBytes { bytes in
                    let layout = try RepodataLayout.scan(bytes)
                    var kept = 0
                    try RepodataFilter.write(bytes, layout: layout, keep: { record in
                        guard present.contains(record.filename) else { return false }
                        kept += 1
                        return true
                    }) { (part) throws(StoreError) in try writer.writeBlocking(part) }
                    return kept
                }
            }
        } catch {
            writer.cancel()
            throw error
        }
        let json = try await store.commit(writer)
        var zst: ServedBlob?
        if snapshot.key.kind == .repodata { zst = try await ServedBlob.load(try await builder.compress(json).digest, from: store) }
        logger.debug("serving repodata filtered to the stored packages", metadata: [
            "document": "\(snapshot.key)", "records": "\(kept)", "size": "\(json.size)",
        ])
        return DocumentSnapshot(key: snapshot.key, row: snapshot.row, served: try await ServedBlob.load(json.digest, from: store),
                                zst: zst, ttl: snapshot.ttl)
    }

    // MARK: repodata.json from shards

    /// Offline, for a subdir whose repodata.json hoard never fetched (its store was filled by
    /// sharded clients alone): a repodata.json of the stored packages' records, taken from the
    /// upstream shard index `index` (the snapshot hoard holds) and the shards the store holds.
    func repodata(fromShardIndex index: DocumentSnapshot) async throws -> DocumentSnapshot {
        let key = DocumentKey(channel: index.key.channel, label: index.key.label, subdir: index.key.subdir, kind: .repodata)
        return try await memoized(in: fromShards, key: key, source: index.row.digest) { present in
            try await self.assemble(key, index: index, keeping: present)
        }
    }

    private func assemble(_ key: DocumentKey, index: DocumentSnapshot, keeping present: Set<String>) async throws -> DocumentSnapshot {
        let indexReader = try await store.open(index.row.digest)
        // Decoding the index (zstd, MessagePack) is CPU work: the document pool.
        let shardIndex = try await builder.worker.runIfActive { try DocumentBuilder.shardIndex(indexReader) }
        let names = Set(present.compactMap { try? CondaFilename($0).name })
        var packages: [MessagePackPair] = []
        var packagesConda: [MessagePackPair] = []
        for name in names.sorted() {
            guard let hex = shardIndex.shards[name],
                  let digest = try await store.index.condaFile(
                      PackageExpectations.shardKey(channel: key.channel, label: key.label, subdir: key.subdir, hex: hex)),
                  let reader = try? await store.open(digest), reader.size <= Int64(Shard.defaultMaxDecompressedSize)
            else { continue }
            // A shard is small, but decoding it is CPU work: the document pool.
            let shard = try await builder.worker.runIfActive { () throws -> MessagePackValue in
                try reader.withContiguousBytes { bytes in
                    try MessagePack.decode(try Zstd.decompress(bytes, maxOutput: Shard.defaultMaxDecompressedSize))
                }
            }
            for pair in shard["packages"]?.mapValue ?? [] where pair.key.stringValue.map(present.contains) == true {
                packages.append(pair)
            }
            for pair in shard["packages.conda"]?.mapValue ?? [] where pair.key.stringValue.map(present.contains) == true {
                packagesConda.append(pair)
            }
        }
        let subdir = shardIndex.document["info"]?["subdir"]?.stringValue ?? key.subdir
        let bytes = ShardGenerator.repodata(subdir: subdir, packages: packages, packagesConda: packagesConda)
        let json = try await store.ingest(bytes: bytes)
        let zst = try await builder.compress(json)
        logger.debug("serving repodata made from the stored shards", metadata: [
            "document": "\(key)", "records": "\(packages.count + packagesConda.count)",
        ])
        let row = RepodataRow(
            channel: key.channel, label: key.label, subdir: key.subdir, name: key.kind.rawValue, digest: json.digest,
            servedDigest: json.digest, zstDigest: zst.digest, fetchedAt: index.row.fetchedAt, validatedAt: index.row.validatedAt)
        return DocumentSnapshot(key: key, row: row, served: try await ServedBlob.load(json.digest, from: store),
                                zst: try await ServedBlob.load(zst.digest, from: store), ttl: index.ttl)
    }

    // MARK: Generated shards

    /// The shard index generated from `repodata` (the snapshot served as repodata.json: filtered
    /// or not); its shards are in the store under the channel's shard names when this returns.
    func shards(for repodata: DocumentSnapshot) async throws -> Generated {
        let key = repodata.key
        let source = repodata.served.digest
        let task: Task<Generated, any Error> = generated.withLock { entries in
            if let entry = entries[key], entry.source == source { return entry.task }
            let task = Task { try await self.generate(from: repodata) }
            entries[key] = (source, task)
            return task
        }
        do {
            return try await task.value
        } catch {
            generated.withLock { entries in if entries[key]?.task == task { entries.removeValue(forKey: key) } }
            throw error
        }
    }

    /// Whether a shard index was generated for this subdir since hoard started.
    func hasGenerated(_ repodataKey: DocumentKey) -> Bool {
        generated.withLock { $0[repodataKey] != nil }
    }

    /// Drops a generation (a shard of it was evicted): the next request generates it again.
    func forget(_ repodataKey: DocumentKey) {
        _ = generated.withLock { $0.removeValue(forKey: repodataKey) }
    }

    private func generate(from repodata: DocumentSnapshot) async throws -> Generated {
        let key = repodata.key
        let reader = try await store.open(repodata.served.digest)
        // Parsing every record to MessagePack and compressing each shard is CPU work: the document pool.
        let (subdir, shards) = try await builder.worker.runIfActive { () throws -> (String?, [(String, [UInt8])]) in
            try reader.withContiguousBytes { bytes in
                let layout = try RepodataLayout.scan(bytes)
                var shards: [(String, [UInt8])] = []
                for group in ShardGenerator.groups(layout) {
                    shards.append((group.name, try Zstd.compress(try ShardGenerator.shard(group, layout: layout, document: bytes), level: 3)))
                }
                return (layout.subdir, shards)
            }
        }
        var named: [(name: String, digest: BlobDigest)] = []
        named.reserveCapacity(shards.count)
        for (name, bytes) in shards {
            let record = try await store.ingest(bytes: bytes)
            try await store.index.setCondaFile(
                PackageExpectations.shardKey(channel: key.channel, label: key.label, subdir: key.subdir, hex: record.digest.hex),
                digest: record.digest)
            named.append((name, record.digest))
        }
        let created = Date(timeIntervalSince1970: repodata.row.fetchedAt)
        let index = try Zstd.compress(
            ShardGenerator.index(subdir: subdir ?? key.subdir, createdAt: created.formatted(.iso8601), shards: named), level: 3)
        let indexKey = DocumentKey(channel: key.channel, label: key.label, subdir: key.subdir, kind: .shardIndex)
        var row = repodata.row
        row.name = indexKey.kind.rawValue
        let blob = ServedBlob(digest: BlobDigest.of(index), size: Int64(index.count), memory: ByteBuffer(bytes: index))
        logger.debug("generated sharded repodata", metadata: ["document": "\(indexKey)", "shards": "\(named.count)"])
        return Generated(
            index: DocumentSnapshot(key: indexKey, row: row, served: blob, zst: nil, ttl: repodata.ttl),
            shardHexes: Set(named.map(\.digest.hex)))
    }
}
