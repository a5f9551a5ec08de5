import Foundation
import HoardConda
import HoardCondaOCI
import HoardOCI
import HoardStore
import HoardUpstream
import NIOPosix
import Synchronization

/// `hoard sync --registry`: publishes what the store holds for its channels to an OCI registry
/// in the conda-oci-mirror layout. Per subdir: package manifests (blobs first, at once, HEAD
/// before each upload unless the registry's catalog showed the repository did not exist), then,
/// only when every package of the run succeeded, the repodata manifest listing exactly the
/// packages the registry holds (dated tag, then `latest`).
///
/// A small package costs docker-registry CPU for every request, and that CPU is what bounds a
/// sync: a package in a new repository takes 8 requests (3 uploads of two requests each, the
/// config mounted, the manifest), not 13.
public struct RegistrySync: Sendable {
    public let store: Store
    public let client: RegistryClient
    public let endpoint: RegistryEndpoint
    public let options: SyncOptions
    public let progress: SyncProgress
    public let summary = SyncSummary()
    /// The shared builder of conda-oci-mirror artifacts (info layers are made once, on NIO's
    /// singleton thread pool, and kept in the store).
    private let artifacts: StoreArtifacts

    public init(store: Store, client: RegistryClient, endpoint: RegistryEndpoint, options: SyncOptions, progress: SyncProgress) {
        artifacts = StoreArtifacts(store: store, worker: .singleton)
        self.store = store
        self.client = client
        self.endpoint = endpoint
        self.options = options
        self.progress = progress
    }

    /// What one subdir's run found: the store side, the published inventory, the plan, and the
    /// files the registry is known to hold by the end.
    final class SubdirRun: Sendable {
        let source: StoreSubdir
        let registry: RegistryKnowledge
        let inventory: PublishedInventory
        let artifacts: CondaOCISubdirPlan
        let plan: SubdirPlan
        let held = Mutex<Set<String>>([])

        init(source: StoreSubdir, registry: RegistryKnowledge, inventory: PublishedInventory, artifacts: CondaOCISubdirPlan, plan: SubdirPlan) {
            self.source = source
            self.registry = registry
            self.inventory = inventory
            self.artifacts = artifacts
            self.plan = plan
        }

        var repodataRepository: String { "\(source.channel)/\(source.subdir)/repodata.json" }
    }

    public func run() async throws -> SyncSummary {
        let held = try await store.index.repodataSubdirs()
        let protectedSkipped = Set(held.map(\.channel).filter { options.skipsProtected($0) }).sorted()
        for channel in protectedSkipped { summary.skipProtected(channel) }
        let subdirs = held.filter { options.wants(channel: $0.channel, subdir: $0.subdir) }
        guard !subdirs.isEmpty else {
            throw SyncError.nothingToSync(
                "the store holds no repodata for "
                    + (options.channels.isEmpty ? "any channel" : "channel(s) \(options.channels.joined(separator: ", "))")
                    + (options.subdirs.isEmpty ? "" : " in subdir(s) \(options.subdirs.joined(separator: ", "))")
                    + (protectedSkipped.isEmpty ? "" : " but the protected channel(s) \(protectedSkipped.joined(separator: ", ")) (name them with --channel to publish them)")
                    + "; serve the channel (or run hoard mirror) first so hoard has something to publish")
        }
        // Shallow: one catalog walk says which repositories exist; a package whose repository
        // does not is pushed without asking about its manifest or blobs. Deep checks everything.
        let registry = RegistryKnowledge(listed: options.mode == .shallow ? await client.repositories(endpoint) : nil)
        var runs: [SubdirRun] = []
        for (channel, subdir) in subdirs {
            guard let source = try await StoreSubdir.load(store, channel: channel, subdir: subdir) else { continue }
            let repository = "\(channel)/\(subdir)/repodata.json"
            let inventory: PublishedInventory
            do { inventory = try await PublishedInventory.read(client, endpoint, repository: repository) } catch {
                throw SyncError.registry("cannot read what \(endpoint)/\(repository):latest publishes: \(error)")
            }
            let options = self.options
            let built = try await artifacts.plan(channel: channel, subdir: subdir) { options.wants(name: $0.name, version: $0.version) }
            let plan = SubdirPlan(artifacts: built, records: source.records, published: inventory.records)
            for s in plan.skipped { summary.skip(s) }
            for p in built.partial {
                progress.note("partial: \(channel)/\(subdir)/\(p) lists only the format the store holds (the other is in the repodata)")
            }
            runs.append(SubdirRun(source: source, registry: registry, inventory: inventory, artifacts: built, plan: plan))
        }
        let units = runs.flatMap { run in run.plan.units.map { (run, $0) } }
        progress.add(packages: units.count, bytes: units.reduce(0) { $0 + $1.1.bytes })
        await forEachConcurrently(units, limit: max(1, options.jobs)) { item in
            await sync(item.1, in: item.0)
        }
        for run in runs { await verifyCarried(run) }
        progress.end()
        if summary.counts.failed > 0 {
            progress.note("repodata not published: \(summary.counts.failed) package(s) failed; re-run to finish (what was pushed is kept)")
        } else {
            for run in runs { await publishRepodata(run) }
        }
        return summary
    }

    // MARK: Packages

    private func sync(_ unit: PackageUnit, in run: SubdirRun) async {
        do {
            let outcome = try await push(unit, in: run)
            switch outcome {
            case .present:
                summary.update { $0.present += 1 }
                progress.finished("present \(unit.label)", bytes: unit.bytes)
            case .pushed(let sent):
                summary.update { $0.pushed += 1 }
                progress.finished("\(options.dryRun ? "would push" : "pushed") \(unit.label) (\(SyncSummary.format(sent)))", bytes: unit.bytes)
            }
        } catch {
            summary.fail("\(unit.label): \(error)")
            progress.finished("FAILED \(unit.label): \(error)", bytes: unit.bytes)
        }
    }

    enum Outcome { case present, pushed(Int64) }

    private func push(_ unit: PackageUnit, in run: SubdirRun) async throws -> Outcome {
        let archives = unit.archives
        let filenames = Set(archives.keys)
        // Shallow: the published inventory says the registry has exactly these files.
        if options.mode == .shallow, archives.allSatisfy({ run.inventory.records[$0.key]?.sha256 == $0.value }) {
            run.held.withLock { $0.formUnion(filenames) }
            return .present
        }
        let manifest = unit.artifact.manifest
        let new = run.registry.isNew(unit.repository)
        let remote = new ? nil : try await client.manifestDigest(endpoint, repository: unit.repository, reference: unit.tag)
        if let remote, remote.description == manifest.digest.description {
            if options.mode == .deep {
                let sent = try await pushBlobs(of: unit, registry: run.registry)
                if sent.repaired {
                    run.held.withLock { $0.formUnion(filenames) }
                    return .pushed(sent.bytes)
                }
            }
            run.held.withLock { $0.formUnion(filenames) }
            return .present
        }
        let sent = try await pushBlobs(of: unit, registry: run.registry)
        let bytes = sent.bytes + Int64(manifest.bytes.count)
        if !options.dryRun {
            try await client.putManifest(endpoint, repository: unit.repository, reference: unit.tag, bytes: manifest.bytes, mediaType: manifest.mediaType)
        }
        summary.update { $0.bytesSent += Int64(manifest.bytes.count) }
        run.held.withLock { $0.formUnion(filenames) }
        return .pushed(bytes)
    }

    /// Pushes the config and layer blobs the repository lacks, all at once (HEAD first unless the
    /// repository is new; a mount when this run saw the blob in another repository). In a dry
    /// run nothing is sent; the bytes that would be are counted.
    private func pushBlobs(of unit: PackageUnit, registry: RegistryKnowledge) async throws -> (bytes: Int64, repaired: Bool) {
        let empty = BlobDigest.of([UInt8]())
        var blobs: [(BlobDigest, Int64, RegistryClient.BlobContent)] = [(empty, 0, .bytes([]))]
        for layer in unit.artifact.layers {
            let store = self.store
            let digest = layer.digest
            let info = artifacts.info
            let first = unit.first
            blobs.append((digest, layer.size, .store({
                // An info layer evicted since it was made is made again (to the same digest).
                if try await !store.contains(digest), let first {
                    for row in try await info.rows(naming: digest) where row.archive == first.sha256 {
                        try await info.restore(row, package: first)
                    }
                }
                return try await store.open(digest)
            })))
        }
        let new = registry.isNew(unit.repository)
        return try await withThrowingTaskGroup(of: (bytes: Int64, repaired: Bool).self) { group in
            for (digest, size, content) in blobs {
                group.addTask { try await pushBlob(digest, size: size, content: content, to: unit.repository, new: new, registry: registry) }
            }
            var total: (bytes: Int64, repaired: Bool) = (0, false)
            for try await one in group {
                total.bytes += one.bytes
                total.repaired = total.repaired || one.repaired
            }
            return total
        }
    }

    /// One blob of a package: what it sent, and whether the repository lacked it.
    private func pushBlob(
        _ digest: BlobDigest, size: Int64, content: RegistryClient.BlobContent, to repository: String, new: Bool, registry: RegistryKnowledge
    ) async throws -> (bytes: Int64, repaired: Bool) {
        // A new repository holds only what this run put there.
        if new, registry.placed(digest, in: repository) {
            summary.update { $0.blobsReused += 1 }
            return (0, false)
        }
        if options.dryRun {
            let held = new ? nil : try await client.blobSize(endpoint, repository: repository, digest: digest)
            if held == nil {
                summary.update { $0.bytesSent += size }
                return (size, true)
            }
            return (0, false)
        }
        let result = try await client.pushBlob(
            endpoint, repository: repository, digest: digest, size: size, content: content,
            mountFrom: registry.elsewhere(digest, than: repository), chunkSize: options.chunkSize, checkFirst: !new)
        registry.note(digest, in: repository)
        switch result {
        case .present:
            summary.update { $0.blobsReused += 1 }
            return (0, false)
        case .mounted:
            summary.update { $0.blobsReused += 1 }
            return (0, true)
        case .uploaded(let sent):
            summary.update { $0.bytesSent += sent }
            return (sent, true)
        }
    }

    /// Files published before and not handled this run (not in the store, or filtered out):
    /// deep mode checks that their tags still exist before listing them again; shallow trusts
    /// the inventory.
    private func verifyCarried(_ run: SubdirRun) async {
        let carried = run.plan.carried
        guard !carried.isEmpty else { return }
        guard options.mode == .deep else {
            run.held.withLock { $0.formUnion(carried.keys) }
            return
        }
        struct TagKey: Hashable { let repository: String; let tag: String }
        var byTag: [TagKey: [String]] = [:]
        for filename in carried.keys {
            guard let parsed = try? CondaOCINaming.PackageFilename(filename),
                let tag = try? CondaOCINaming.tag(version: parsed.version, build: parsed.build)
            else { continue }
            let repository = "\(run.source.channel)/\(run.source.subdir)/\(CondaOCINaming.repositoryComponent(forPackage: parsed.name))"
            byTag[TagKey(repository: repository, tag: tag.value), default: []].append(filename)
        }
        for (key, files) in byTag {
            if (try? await client.manifestDigest(endpoint, repository: key.repository, reference: key.tag)) != nil {
                run.held.withLock { $0.formUnion(files) }
            } else {
                progress.note("dropped from the published repodata (no longer in the registry, not in the store): \(files.sorted().joined(separator: ", "))")
            }
        }
    }

    // MARK: Repodata

    private func publishRepodata(_ run: SubdirRun) async {
        let repository = run.repodataRepository
        let channel = run.source.channel, subdir = run.source.subdir
        do {
            let held = run.held.withLock { $0 }.intersection(run.source.records.keys)
            // Nothing of this subdir in the registry and nothing published before: no empty repodata.
            if held.isEmpty && run.inventory.manifestDigest == nil { return }
            let complete = held.count == run.source.records.count
            let time = CondaOCILayout.repodataCreationTime(upstreamLastModified: run.source.row.upstreamLastModified, fetchedAt: run.source.row.fetchedAt)
            let store = self.store
            var artifact: CondaOCIArtifact
            var memory: [BlobDigest: [UInt8]] = [:]
            var shards: [CondaOCIArtifact] = []
            if complete, let built = run.artifacts.repodata {
                // Every package is in the registry: publish the snapshot hoard serves, as is, with
                // its shards when the store holds every one (then the manifest is the OCI view's).
                artifact = built
                if let index = built.layers.first(where: { $0.mediaType == CondaOCINaming.MediaType.shardIndex }) {
                    if try await shardsComplete(index: index.digest, run.artifacts.shards) {
                        shards = run.artifacts.shards
                    } else {
                        let json = built.layers[0]
                        let zst = built.layers.first { $0.mediaType == CondaOCINaming.MediaType.repodataJSONZst }
                        artifact = CondaOCIManifests.repodata(
                            channel: channel, subdir: subdir, json: CondaOCIBlob(digest: json.digest, size: json.size),
                            zst: zst.map { CondaOCIBlob(digest: $0.digest, size: $0.size) }, shardIndex: nil, creationTime: time)
                        progress.note("\(channel)/\(subdir): the store lacks some shards of the shard index; published without it")
                    }
                }
            } else {
                let document = try await store.open(run.source.servedDigest).readAll(limit: StoreSubdir.maxDocument)
                let subset = try RepodataSubset.make(from: document, keep: held)
                let json = BlobDigest.of(subset.json), zst = BlobDigest.of(subset.zst)
                memory[json] = subset.json
                memory[zst] = subset.zst
                artifact = CondaOCIManifests.repodata(
                    channel: channel, subdir: subdir, json: CondaOCIBlob(digest: json, size: Int64(subset.json.count)),
                    zst: CondaOCIBlob(digest: zst, size: Int64(subset.zst.count)), shardIndex: nil, creationTime: time)
            }
            if run.inventory.manifestDigest == BlobDigest.of(artifact.manifest.bytes) {
                summary.update { $0.repodataCurrent += 1 }
                progress.note("repodata \(repository):latest is current (\(held.count) package file(s))")
                return
            }
            summary.update { $0.repodataPushed += 1 }
            if options.dryRun {
                progress.note("would push repodata \(repository) listing \(held.count) of \(run.source.records.count) package file(s)"
                    + (shards.isEmpty ? "" : " and \(shards.count) shard(s)"))
                return
            }
            // Shards first (§1.5): what the index names is in place before the index is published.
            let tally = ShardTally()
            await forEachConcurrently(shards, limit: max(1, options.jobs)) { shard in
                do {
                    if try await pushArtifact(shard, memory: [:], registry: run.registry) { tally.state.withLock { $0.pushed += 1 } }
                } catch {
                    tally.state.withLock { $0.failures.append("\(shard.path):\(shard.tags.first?.value ?? ""): \(error)") }
                }
            }
            if let failed = tally.state.withLock({ $0.failures.first }) { throw SyncError.registry("shard \(failed)") }
            // The dated tag first, `latest` last: a reader of `latest` finds everything in place.
            _ = try await pushArtifact(artifact, memory: memory, tags: artifact.tags.map(\.value).reversed(), registry: run.registry)
            progress.note("pushed repodata \(repository):latest and :\(time.value) listing \(held.count) of \(run.source.records.count) package file(s)"
                + (shards.isEmpty ? "" : ", \(tally.state.withLock { $0.pushed }) of \(shards.count) shard(s) new"))
        } catch {
            summary.fail("repodata \(repository): \(error)")
            progress.note("FAILED repodata \(repository): \(error)")
        }
    }

    /// Whether the store holds every shard the index names (a published index must not name
    /// shards the registry lacks).
    private func shardsComplete(index: BlobDigest, _ shards: [CondaOCIArtifact]) async throws -> Bool {
        let bytes = try await store.open(index).readAll(limit: StoreSubdir.maxDocument)
        let parsed = try ShardIndex(compressed: bytes)
        let held = Set(shards.compactMap { $0.tags.first?.value })
        return Set(parsed.shards.values).isSubset(of: held)
    }

    /// Pushes an artifact's blobs (HEAD first) and its manifest under `tags` (default: its own),
    /// unless the first tag already names the same manifest. Returns whether anything was pushed.
    private func pushArtifact(_ artifact: CondaOCIArtifact, memory: [BlobDigest: [UInt8]], tags: [String]? = nil, registry: RegistryKnowledge) async throws -> Bool {
        let repository = artifact.path
        let tags = tags ?? artifact.tags.map(\.value)
        if memory.isEmpty, let first = tags.first,
            let remote = try await client.manifestDigest(endpoint, repository: repository, reference: first),
            remote.description == artifact.manifest.digest.description
        {
            return false
        }
        let store = self.store
        var blobs: [(BlobDigest, Int64, RegistryClient.BlobContent)] = [(BlobDigest.of([UInt8]()), 0, .bytes([]))]
        for layer in artifact.layers {
            let digest = layer.digest
            blobs.append((digest, layer.size, memory[digest].map { .bytes($0) } ?? .store({ try await store.open(digest) })))
        }
        for (digest, size, content) in blobs {
            let result = try await client.pushBlob(
                endpoint, repository: repository, digest: digest, size: size, content: content,
                mountFrom: registry.elsewhere(digest, than: repository), chunkSize: options.chunkSize)
            registry.note(digest, in: repository)
            if case .uploaded(let sent) = result { summary.update { $0.bytesSent += sent } }
        }
        for tag in tags {
            try await client.putManifest(endpoint, repository: repository, reference: tag, bytes: artifact.manifest.bytes, mediaType: artifact.manifest.mediaType)
            summary.update { $0.bytesSent += Int64(artifact.manifest.bytes.count) }
        }
        return true
    }
}

/// Shards pushed and failed, counted across concurrent pushes.
final class ShardTally: Sendable {
    let state = Mutex((pushed: 0, failures: [String]()))
}

/// Runs `body` for each item, at most `limit` at once.
func forEachConcurrently<T: Sendable>(_ items: [T], limit: Int, _ body: @escaping @Sendable (T) async -> Void) async {
    await withTaskGroup(of: Void.self) { group in
        var iterator = items.makeIterator()
        for _ in 0..<limit {
            guard let item = iterator.next() else { break }
            group.addTask { await body(item) }
        }
        while await group.next() != nil {
            if let item = iterator.next() { group.addTask { await body(item) } }
        }
    }
}
