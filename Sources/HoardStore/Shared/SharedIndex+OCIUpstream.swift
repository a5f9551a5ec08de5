import Foundation
import GRDB

/// What the OCI front pulled through from upstream registries, shared so that content one node
/// fetched is served by every node without going upstream again, and a tag one node resolved is
/// used by every node within the tag TTL. Keys (cache-layout.md, "The bucket"):
///
/// - `index/oci-upstream/<registry>/<repository components…>/_content/<hex>` (`SharedOCIUpstreamContent`)
/// - `index/oci-upstream/<registry>/<repository components…>/_tags/<tag>` (`SharedOCIUpstreamTag`)
extension SharedIndex {
    static let ociUpstreamKind = "oci-upstream"

    static func ociUpstream(_ registry: String, _ repository: String) -> SharedKey {
        key(ociUpstreamKind, [registry] + repository.split(separator: "/", omittingEmptySubsequences: false).map(String.init))
    }

    static func ociUpstreamContentKey(_ registry: String, _ repository: String, _ digest: BlobDigest) -> SharedKey {
        ociUpstream(registry, repository).appending("_content", digest.hex)
    }

    static func ociUpstreamTagKey(_ registry: String, _ repository: String, _ tag: String) -> SharedKey {
        ociUpstream(registry, repository).appending("_tags", tag)
    }
}

/// Content of an upstream repository hoard holds: `mediaType` for a manifest, nil for a blob.
struct SharedOCIUpstreamContent: Codable, Sendable, Hashable {
    var digest: String
    var mediaType: String?
    var size: Int64
}

/// An upstream tag as last resolved (by any node), and when.
struct SharedOCIUpstreamTag: Codable, Sendable, Hashable {
    var digest: String
    var mediaType: String
    var resolvedAt: Double
    var size: Int64
}

/// The shared bodies of `StoreIndex+OCIUpstream.swift`. Content names are facts about bytes that
/// never change, so they are read through (local row, else the bucket's record); a tag's
/// resolution is always read from the bucket, so a refresh by any node counts for all.
extension StoreIndex {
    func sharedOCIUpstreamAdd(_ shared: SharedIndex, registry: String, repository: String, digest: BlobDigest, mediaType: String?) async throws {
        let local = try await localOCIUpstreamContent(registry: registry, repository: repository, digest: digest)
        // Already written through (or adopted from the bucket) with nothing new to say.
        if local.known, mediaType == nil || local.mediaType == mediaType { return }
        let size = try await committedBlobSize(digest)
        let key = SharedIndex.ociUpstreamContentKey(registry, repository, digest)
        var type = mediaType
        let entry = SharedOCIUpstreamContent(digest: digest.description, mediaType: mediaType, size: size)
        if mediaType != nil {
            try await shared.write(entry, at: key)
        } else if try await shared.write(entry, at: key, when: .ifAbsent) == nil {
            // Another node recorded it first, perhaps as a manifest: keep what it said.
            type = try await shared.read(SharedOCIUpstreamContent.self, at: key)?.value.mediaType
        }
        let recorded = type
        try await pool.write { db in
            try Self.upstreamContentRow(db, registry: registry, repository: repository, digest: digest, mediaType: recorded)
        }
    }

    func sharedOCIUpstreamContent(_ shared: SharedIndex, registry: String, repository: String, digest: BlobDigest) async throws -> (known: Bool, mediaType: String?) {
        let local = try await localOCIUpstreamContent(registry: registry, repository: repository, digest: digest)
        if local.known { return local }
        let key = SharedIndex.ociUpstreamContentKey(registry, repository, digest)
        guard let found = try await shared.read(SharedOCIUpstreamContent.self, at: key) else { return (false, nil) }
        try Self.check(found.value.digest, is: digest, in: key)
        let size = try SharedRecordCheck.size(found.value.size, in: key)
        try await pool.write { db in
            try Self.adoptBlobRow(db, digest, size: size, pinned: false)
            try Self.upstreamContentRow(db, registry: registry, repository: repository, digest: digest, mediaType: found.value.mediaType)
        }
        return (true, found.value.mediaType)
    }

    func sharedOCIUpstreamTag(_ shared: SharedIndex, registry: String, repository: String, tag: String) async throws -> OCIUpstreamTag? {
        let key = SharedIndex.ociUpstreamTagKey(registry, repository, tag)
        guard let found = try await shared.read(SharedOCIUpstreamTag.self, at: key) else { return nil }
        let digest = try SharedRecordCheck.digest(found.value.digest, in: key)
        let size = try SharedRecordCheck.size(found.value.size, in: key)
        let value = OCIUpstreamTag(digest: digest, mediaType: found.value.mediaType, resolvedAt: found.value.resolvedAt)
        if try await localOCIUpstreamTag(registry: registry, repository: repository, tag: tag) != value {
            try await pool.write { db in
                try Self.adoptBlobRow(db, digest, size: size, pinned: false)
                try Self.upstreamTagRow(db, registry: registry, repository: repository, tag: tag, value)
            }
        }
        return value
    }

    func sharedOCIUpstreamSetTag(_ shared: SharedIndex, registry: String, repository: String, tag: String, _ value: OCIUpstreamTag) async throws {
        let size = try await committedBlobSize(value.digest)
        try await shared.write(
            SharedOCIUpstreamTag(digest: value.digest.description, mediaType: value.mediaType, resolvedAt: value.resolvedAt, size: size),
            at: SharedIndex.ociUpstreamTagKey(registry, repository, tag))
        try await pool.write { db in try Self.upstreamTagRow(db, registry: registry, repository: repository, tag: tag, value) }
    }
}
