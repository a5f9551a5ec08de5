import Foundation
import GRDB

/// How many OCI records `refreshOCINames` found in the bucket (and cached here).
public struct OCIRefreshCounts: Sendable, Equatable {
    public var repositories = 0
    public var manifests = 0
    public var tags = 0
    public var blobLinks = 0
    public var aliases = 0
    public var upstreamNames = 0
}

/// `hoard index rebuild`, OCI part: this node's OCI rows made to match the bucket's records.
///
/// The OCI front never needs it to serve (every name that can change is read from the bucket,
/// the others are read through), but the rows feed what reads this node's index alone: eviction's
/// pins, the web page's counts, the private-channel mount check.
extension StoreIndex {
    public func refreshOCINames() async throws -> OCIRefreshCounts {
        guard let shared else { throw StoreError.index("this store has no shared index to refresh OCI names from") }
        var counts = OCIRefreshCounts()

        for name in try await Self.names(under: SharedIndex.ociCatalog, in: shared) {
            try await pool.write { db in try Self.ensureRepository(db, name) }
            counts.repositories += 1
        }

        var manifests: [(String, BlobDigest)] = []
        var links: [(String, BlobDigest)] = []
        var tags: [(String, String, SharedKey)] = []
        let prefix = SharedIndex.key(SharedIndex.ociKind, []).directory
        for summary in try await shared.objects.list(prefix: prefix) {
            guard let parsed = Self.parseRepositoryKey(summary.key, under: prefix) else { continue }
            switch (parsed.marker, parsed.rest.count) {
            case ("_manifests", 1): if let digest = try? BlobDigest(parsing: parsed.rest[0]) { manifests.append((parsed.repository, digest)) }
            case ("_blobs", 1): if let digest = try? BlobDigest(parsing: parsed.rest[0]) { links.append((parsed.repository, digest)) }
            case ("_tags", 1): tags.append((parsed.repository, parsed.rest[0], summary.key))
            default: break  // referrer links: derived from the manifests' subjects
            }
        }
        let foundManifests = try await Concurrently.map(manifests) { repository, digest in
            try await self.sharedOCIManifest(shared, repository: repository, digest: digest)
        }
        counts.manifests = foundManifests.compactMap { $0 }.count
        for (repository, digest) in links {
            if try await sharedOCIHasBlob(shared, repository: repository, digest: digest) { counts.blobLinks += 1 }
        }
        let foundTags = try await Concurrently.map(tags) { repository, tag, key -> (String, String, BlobDigest)? in
            guard let record = try await shared.read(SharedOCITag.self, at: key) else { return nil }
            return (repository, tag, try SharedRecordCheck.digest(record.value.digest, in: key))
        }.compactMap { $0 }
        counts.tags = foundTags.count
        try await replaceCachedOCIRows(manifests: Set(manifests.map { "\($0.0)\n\($0.1.hex)" }), links: Set(links.map { "\($0.0)\n\($0.1.hex)" }), tags: foundTags)

        for alias in try await shared.objects.list(prefix: SharedIndex.key(SharedIndex.ociAliasKind, []).directory) {
            let parts = alias.key.path.split(separator: "/").suffix(2).compactMap { SharedKey.decode($0) }
            guard parts.count == 2, try await sharedOCIAlias(shared, parts.joined(separator: ":")) != nil else { continue }
            counts.aliases += 1
        }
        counts.upstreamNames = try await refreshUpstreamNames(shared)
        return counts
    }

    /// Drops the manifest and link rows the bucket no longer has, and makes the tag rows the bucket's.
    private func replaceCachedOCIRows(manifests: Set<String>, links: Set<String>, tags: [(String, String, BlobDigest)]) async throws {
        try await pool.write { db in
            for row in try Row.fetchAll(db, sql: "SELECT repository, digest FROM oci_manifest") {
                let repository: String = row["repository"], hex: String = row["digest"]
                if !manifests.contains("\(repository)\n\(hex)"), let digest = try? BlobDigest(parsing: hex) {
                    _ = try Self.deleteManifestRow(db, repository: repository, digest: digest)
                }
            }
            for row in try Row.fetchAll(db, sql: "SELECT repository, digest FROM oci_blob") {
                let repository: String = row["repository"], hex: String = row["digest"]
                if !links.contains("\(repository)\n\(hex)"), let digest = try? BlobDigest(parsing: hex) {
                    _ = try Self.removeBlobRow(db, repository: repository, digest: digest)
                }
            }
            try db.execute(sql: "DELETE FROM oci_tag")
            let now = Date().timeIntervalSince1970
            for (repository, tag, digest) in tags {
                // Only where the manifest row is cached (a tag whose manifest is gone is no name).
                try db.execute(sql: """
                    INSERT OR REPLACE INTO oci_tag (repository, tag, digest, updated_at)
                    SELECT ?, ?, ?, ? WHERE EXISTS(SELECT 1 FROM oci_manifest WHERE repository = ? AND digest = ?)
                    """, arguments: [repository, tag, digest.hex, now, repository, digest.hex])
            }
        }
    }

    private func refreshUpstreamNames(_ shared: SharedIndex) async throws -> Int {
        let prefix = SharedIndex.key(SharedIndex.ociUpstreamKind, []).directory
        var count = 0
        for summary in try await shared.objects.list(prefix: prefix) {
            // <registry>/<repository components…>/_content|_tags/<name>
            let components = summary.key.path.dropFirst(prefix.path.count).split(separator: "/", omittingEmptySubsequences: false)
            guard components.count >= 4, let registry = SharedKey.decode(components[0]),
                let name = SharedKey.decode(components[components.count - 1]) else { continue }
            let repository = components[1..<(components.count - 2)].compactMap { SharedKey.decode($0) }.joined(separator: "/")
            switch components[components.count - 2] {
            case "_content":
                if let digest = try? BlobDigest(parsing: name),
                    try await sharedOCIUpstreamContent(shared, registry: registry, repository: repository, digest: digest).known { count += 1 }
            case "_tags":
                if try await sharedOCIUpstreamTag(shared, registry: registry, repository: repository, tag: name) != nil { count += 1 }
            default: continue
            }
        }
        return count
    }

    /// `<repository components…>/<marker>/<rest…>` under `index/oci/`, the marker being the first
    /// component that starts with `_` (no component of a repository name does).
    static func parseRepositoryKey(_ key: SharedKey, under prefix: SharedKey) -> (repository: String, marker: String, rest: [String])? {
        let components = key.path.dropFirst(prefix.path.count).split(separator: "/", omittingEmptySubsequences: false)
        guard let markerIndex = components.firstIndex(where: { $0.hasPrefix("_") }), markerIndex > 0 else { return nil }
        let repository = components[..<markerIndex].compactMap { SharedKey.decode($0) }
        let rest = components[(markerIndex + 1)...].compactMap { SharedKey.decode($0) }
        guard repository.count == markerIndex, rest.count == components.count - markerIndex - 1 else { return nil }
        return (repository.joined(separator: "/"), String(components[markerIndex]), rest)
    }
}
