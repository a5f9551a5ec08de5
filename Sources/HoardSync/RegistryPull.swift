import Foundation
import HoardConda
import HoardOCI
import HoardStore
import HoardUpstream

/// `hoard sync --from`: pulls a published conda mirror (conda-oci-mirror layout) into the store,
/// so a site without upstream access can serve it: per subdir the `repodata.json:latest`
/// layers, then every package it lists (blobs by the sha256 the repodata gives, each verified),
/// then the repodata row (a document row last: packages are checked against it).
public struct RegistryPull: Sendable {
    public let store: Store
    public let client: RegistryClient
    public let endpoint: RegistryEndpoint
    public let options: SyncOptions
    public let progress: SyncProgress
    public let summary = SyncSummary()

    /// conda-oci-mirror's default subdirs, plus the newer ones; each is probed.
    public static let defaultSubdirs = [
        "noarch", "linux-64", "linux-aarch64", "linux-ppc64le", "linux-s390x", "osx-64", "osx-arm64", "win-64", "win-arm64",
    ]

    public init(store: Store, client: RegistryClient, endpoint: RegistryEndpoint, options: SyncOptions, progress: SyncProgress) {
        self.store = store
        self.client = client
        self.endpoint = endpoint
        self.options = options
        self.progress = progress
    }

    public func run() async throws -> SyncSummary {
        guard !options.channels.isEmpty else { throw SyncError.invalidArgument("--from needs --channel NAME (the channel to pull)") }
        var found = 0
        for channel in options.channels {
            for subdir in options.subdirs.isEmpty ? Self.defaultSubdirs : options.subdirs {
                if try await pull(channel: channel, subdir: subdir) { found += 1 }
            }
        }
        progress.end()
        guard found > 0 else {
            throw SyncError.nothingToSync("\(endpoint) publishes no repodata.json:latest for \(options.channels.joined(separator: ", "))")
        }
        return summary
    }

    struct Layer {
        let digest: BlobDigest
        let size: Int64
    }

    /// Returns false when the registry has no repodata for the subdir.
    private func pull(channel: String, subdir: String) async throws -> Bool {
        let repository = "\(channel)/\(subdir)/repodata.json"
        guard let digest = try await client.manifestDigest(endpoint, repository: repository, reference: "latest") else { return false }
        let fetched = try await client.manifest(endpoint, repository: repository, reference: digest.description)
        let manifest = try Manifest.parse(fetched.bytes)
        func layer(_ type: String) throws -> Layer? {
            guard let d = manifest.layers.first(where: { $0.mediaType == type }) else { return nil }
            guard let digest = try? BlobDigest(parsing: d.digest.description), d.size >= 0, d.size <= StoreSubdir.maxDocument else {
                throw SyncError.registry("\(repository):latest has a \(type) layer hoard cannot use (\(d.digest), \(d.size) bytes)")
            }
            return Layer(digest: digest, size: d.size)
        }
        guard let json = try layer(CondaOCINaming.MediaType.repodataJSON) else {
            throw SyncError.registry("\(repository):latest has no \(CondaOCINaming.MediaType.repodataJSON) layer")
        }
        let zst = try layer(CondaOCINaming.MediaType.repodataJSONZst)
        try await fetch(json.digest, size: json.size, from: repository)
        if let zst { try await fetch(zst.digest, size: zst.size, from: repository) }
        let document = try await store.open(json.digest).readAll(limit: StoreSubdir.maxDocument)
        let records = try document.withUnsafeBytes { try RepodataRecords.build(document: $0) }
        progress.note("\(repository):latest lists \(records.count) package file(s)")
        let wanted = records.filter { filename, _ in
            guard let parsed = try? CondaOCINaming.PackageFilename(filename) else { return false }
            return options.wants(name: parsed.name, version: parsed.version)
        }.sorted { $0.key < $1.key }
        progress.add(packages: wanted.count, bytes: wanted.reduce(0) { $0 + Int64(clamping: $1.value.size ?? 0) })
        await forEachConcurrently(wanted, limit: max(1, options.jobs)) { item in
            await pullPackage(item.key, record: item.value, channel: channel, subdir: subdir)
        }
        if !options.dryRun {
            let now = Date().timeIntervalSince1970
            try await store.index.saveRepodata(
                RepodataRow(
                    channel: channel, label: "", subdir: subdir, name: "repodata.json", digest: json.digest, servedDigest: json.digest,
                    zstDigest: zst?.digest, upstreamURL: "\(endpoint)/\(repository):latest", fetchedAt: now, validatedAt: now))
        }
        return true
    }

    private func pullPackage(_ filename: String, record: PackageDigest, channel: String, subdir: String) async {
        let label = "\(channel)/\(subdir)/\(filename)"
        guard let sha = record.sha256, let size = record.size.flatMap({ Int64(exactly: $0) }),
            let parsed = try? CondaOCINaming.PackageFilename(filename)
        else {
            summary.skip("\(label): its repodata record has no sha256 or no usable size")
            progress.finished("skipped \(label)", bytes: 0)
            return
        }
        let key = CondaFileKey(channel: channel, subdir: subdir, filename: filename)
        do {
            if try await store.index.condaFile(key) == sha, try await store.contains(sha) {
                summary.update { $0.present += 1 }
                progress.finished("present \(label)", bytes: size)
                return
            }
            let repository = "\(channel)/\(subdir)/\(CondaOCINaming.repositoryComponent(forPackage: parsed.name))"
            if options.dryRun {
                summary.update { $0.pushed += 1; $0.bytesSent += size }
                progress.finished("would pull \(label)", bytes: size)
                return
            }
            do {
                try await fetch(sha, size: size, from: repository)
            } catch let error as UpstreamError where error.isNotFound {
                summary.skip("\(label): listed in the published repodata but not in the registry")
                progress.finished("absent \(label)", bytes: size)
                return
            }
            try await store.index.setCondaFile(key, digest: sha)
            summary.update { $0.pushed += 1; $0.bytesSent += size }
            progress.finished("pulled \(label)", bytes: size)
        } catch {
            summary.fail("\(label): \(error)")
            progress.finished("FAILED \(label): \(error)", bytes: size)
        }
    }

    /// A blob by digest into the store, verified while it streams; nothing is kept on a mismatch.
    private func fetch(_ digest: BlobDigest, size: Int64, from repository: String) async throws {
        if try await store.contains(digest) { return }
        let response = try await client.blob(endpoint, repository: repository, digest: digest)
        try await store.ingest(response.body, expectedDigest: digest, expectedSize: size)
    }
}
