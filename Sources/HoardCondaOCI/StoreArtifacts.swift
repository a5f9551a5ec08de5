import HoardConda
import HoardOCI
import HoardStore
import NIOPosix

/// What the store holds for one channel subdir, as conda-oci-mirror artifacts: what `hoard sync`
/// pushes and `hoard export` writes. Built only from the store (no upstream contact): packages
/// the store holds whose bytes match the subdir's repodata record, the repodata documents and
/// the cached shards.
public struct CondaOCISubdirPlan: Sendable {
    public let channel: String
    public let subdir: String
    public var packages: [CondaOCIArtifact] = []
    /// `<channel>/<subdir>/repodata.json` (nil when the store holds no repodata for the subdir).
    public var repodata: CondaOCIArtifact?
    /// `repodata.json/shards:<hex>`, for the cached shards named by the shard index (§1.5).
    public var shards: [CondaOCIArtifact] = []
    /// Packages left out, with the reason (invalid tag, no record, bytes differ from the record).
    public var skipped: [CondaOCISkip] = []
    /// `<name'>:<tag>` whose repodata lists another archive format the store lacks: their
    /// manifests list only what the store holds, so they differ from the view's until it is fetched.
    public var partial: [String] = []

    public init(channel: String, subdir: String) {
        self.channel = channel
        self.subdir = subdir
    }

    /// Every artifact in push order (§5.5): packages, shards, then repodata.
    public var artifacts: [CondaOCIArtifact] { packages + shards + (repodata.map { [$0] } ?? []) }
}

public struct StoreArtifacts: Sendable {
    public let store: Store
    public let info: InfoLayerStore

    public init(store: Store, worker: NIOThreadPool) {
        self.store = store
        info = InfoLayerStore(store: store, worker: worker)
    }

    public init(info: InfoLayerStore) {
        store = info.store
        self.info = info
    }

    /// Packages whose info layers are made at once by `plan`.
    static let layerConcurrency = 8

    /// `transform` of each item, at most `limit` at once, in the items' order.
    static func orderedMap<T: Sendable, R: Sendable>(_ items: [T], limit: Int, _ transform: @escaping @Sendable (T) async -> R) async -> [R] {
        await withTaskGroup(of: (Int, R).self) { group in
            var out: [(index: Int, result: R)] = []
            out.reserveCapacity(items.count)
            var next = 0
            func add() {
                guard next < items.count else { return }
                let index = next, item = items[index]
                next += 1
                group.addTask { (index, await transform(item)) }
            }
            for _ in 0..<max(1, limit) { add() }
            while let done = await group.next() {
                out.append((done.0, done.1))
                add()
            }
            return out.sorted { $0.index < $1.index }.map(\.result)
        }
    }

    /// The channels the store holds anything for.
    public func channels() async throws -> [String] { try await store.index.condaChannels() }

    /// The subdirs of a channel the store holds repodata or files for, sorted.
    public func subdirs(channel: String) async throws -> [String] {
        let documents = try await store.index.repodataRows(channel: channel).map(\.subdir)
        let files = try await store.index.condaFiles(channel: channel).map(\.key.subdir)
        return Set(documents + files).filter { !$0.isEmpty }.sorted()
    }

    /// Every record of a stored repodata.json (the document as fetched, `row.digest`) by filename.
    public func records(_ row: RepodataRow) async throws -> [String: PackageDigest] {
        let reader = try await store.open(row.digest)
        // Copying and parsing up to 300 MB blocks: the worker pool.
        return try await info.worker.runIfActive {
            try reader.withContiguousBytes { bytes in
                let buffer = PaddedBuffer(count: bytes.count) { raw in
                    if let base = bytes.baseAddress { raw.baseAddress?.copyMemory(from: base, byteCount: bytes.count) }
                }
                return try RepodataRecords.build(buffer)
            }
        }
    }

    /// The artifacts of one subdir. `include` narrows the packages (sync's `--package`); info
    /// layers are made for packages that have none on record yet.
    public func plan(channel: String, subdir: String, include: (@Sendable (CondaFilename) -> Bool)? = nil) async throws
        -> CondaOCISubdirPlan
    {
        var plan = CondaOCISubdirPlan(channel: channel, subdir: subdir)
        let index = store.index
        let repodataRow = try await index.repodata(channel: channel, label: "", subdir: subdir, name: CondaOCILayout.repodataLeaf)
        let records = try await repodataRow.asyncMap { try await self.records($0) } ?? [:]
        let files = try await index.condaFiles(channel: channel, subdir: subdir)

        var held: [CondaOCIPackage] = []
        var heldNames: Set<String> = []
        for file in files where !file.key.filename.hasPrefix("shards/") {
            guard let filename = try? CondaFilename(file.key.filename) else { continue }
            if let include, !include(filename) { continue }
            guard let record = records[filename.rawValue] else {
                plan.skipped.append(CondaOCISkip(filename: filename.rawValue, reason: "the subdir's repodata held by the store does not list it"))
                continue
            }
            switch CondaOCIPackage.from(filename: filename.rawValue, record: record) {
            case .failure(let skip): plan.skipped.append(skip)
            case .success(let package):
                guard package.sha256 == file.digest else {
                    plan.skipped.append(
                        CondaOCISkip(filename: filename.rawValue, reason: "the store holds \(file.digest), the repodata lists \(package.sha256)"))
                    continue
                }
                held.append(package)
                heldNames.insert(filename.rawValue)
            }
        }
        let (groups, invalid) = CondaOCILayout.group(held)
        plan.skipped += invalid
        // Making a package's layers is mostly waiting (store writes, index rows, the worker
        // pool): made several at once, the first plan of a big subdir costs seconds, not minutes.
        let info = self.info
        let layers = await Self.orderedMap(groups, limit: Self.layerConcurrency) { group -> Result<CondaOCIInfoLayers, any Error>? in
            guard let first = group.archives.first else { return nil }
            do { return .success(try await info.layers(first, subdir: subdir)) } catch { return .failure(error) }
        }
        for (group, made) in zip(groups, layers) {
            do {
                guard let made else { continue }
                plan.packages.append(try CondaOCIManifests.package(channel: channel, subdir: subdir, group: group, info: try made.get()))
            } catch {
                for archive in group.archives { plan.skipped.append(CondaOCISkip(filename: archive.filename.rawValue, reason: "\(error)")) }
                continue
            }
            // The other format of the same build, listed but not held.
            let stem = group.archives[0].filename.stem
            for format in CondaFilename.Format.allCases where !heldNames.contains(stem + format.rawValue) && records[stem + format.rawValue] != nil {
                plan.partial.append("\(group.component):\(group.tag.value)")
            }
        }

        if let repodataRow {
            let json = try await document(repodataRow.servedDigest ?? repodataRow.digest)
            let zst = try await repodataRow.zstDigest.asyncMap { try await document($0) } ?? nil
            var shardIndex: CondaOCIBlob?
            if let shardRow = try await index.repodata(channel: channel, label: "", subdir: subdir, name: "repodata_shards.msgpack.zst") {
                shardIndex = try await document(shardRow.servedDigest ?? shardRow.digest)
                if shardIndex != nil {
                    for file in files where file.key.filename.hasPrefix("shards/") {
                        plan.shards.append(CondaOCIManifests.shard(channel: channel, subdir: subdir, shard: CondaOCIBlob(digest: file.digest, size: file.size)))
                    }
                }
            }
            if let json {
                plan.repodata = CondaOCIManifests.repodata(
                    channel: channel, subdir: subdir, json: json, zst: zst, shardIndex: shardIndex,
                    creationTime: CondaOCILayout.repodataCreationTime(
                        upstreamLastModified: repodataRow.upstreamLastModified, fetchedAt: repodataRow.fetchedAt))
            }
        }
        plan.skipped.sort { $0.filename < $1.filename }
        return plan
    }

    /// A document blob's size, when the store holds it.
    private func document(_ digest: BlobDigest) async throws -> CondaOCIBlob? {
        try await store.existingBlob(digest).map { CondaOCIBlob(digest: $0.digest, size: $0.size) }
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        switch self {
        case .some(let value): return try await transform(value)
        case .none: return nil
        }
    }
}
