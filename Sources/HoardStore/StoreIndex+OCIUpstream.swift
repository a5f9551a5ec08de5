import Foundation
import GRDB

/// A tag of an upstream registry as hoard last resolved it.
public struct OCIUpstreamTag: Sendable, Hashable {
    public let digest: BlobDigest
    public let mediaType: String
    /// Unix seconds.
    public let resolvedAt: Double

    public init(digest: BlobDigest, mediaType: String, resolvedAt: Double) {
        self.digest = digest
        self.mediaType = mediaType
        self.resolvedAt = resolvedAt
    }
}

/// Names of content pulled through from upstream registries (`oci_upstream_content`,
/// `oci_upstream_tag`). Never pinned: a missing blob is fetched again.
extension StoreIndex {
    /// Records that `registry`/`repository` holds committed blob `digest`; `mediaType` for manifests.
    public func ociUpstreamAdd(registry: String, repository: String, digest: BlobDigest, mediaType: String?) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO oci_upstream_content (registry, repository, digest, media_type) VALUES (?, ?, ?, ?)
                ON CONFLICT(registry, repository, digest) DO UPDATE SET media_type = COALESCE(excluded.media_type, media_type)
                """, arguments: [registry, repository, digest.hex, mediaType])
        }
    }

    /// Whether the content is known, and its media type (nil for a plain blob).
    public func ociUpstreamContent(registry: String, repository: String, digest: BlobDigest) async throws -> (known: Bool, mediaType: String?) {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT media_type FROM oci_upstream_content WHERE registry = ? AND repository = ? AND digest = ?
                """, arguments: [registry, repository, digest.hex]) else { return (false, nil) }
            return (true, row["media_type"] as String?)
        }
    }

    public func ociUpstreamTag(registry: String, repository: String, tag: String) async throws -> OCIUpstreamTag? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT digest, media_type, resolved_at FROM oci_upstream_tag WHERE registry = ? AND repository = ? AND tag = ?
                """, arguments: [registry, repository, tag]).flatMap { row in
                (try? BlobDigest(parsing: row["digest"] as String)).map {
                    OCIUpstreamTag(digest: $0, mediaType: row["media_type"], resolvedAt: row["resolved_at"])
                }
            }
        }
    }

    /// Points a tag at a manifest whose blob is committed.
    public func ociUpstreamSetTag(registry: String, repository: String, tag: String, _ value: OCIUpstreamTag) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO oci_upstream_tag (registry, repository, tag, digest, media_type, resolved_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(registry, repository, tag) DO UPDATE SET digest = excluded.digest,
                    media_type = excluded.media_type, resolved_at = excluded.resolved_at
                """, arguments: [registry, repository, tag, value.digest.hex, value.mediaType, value.resolvedAt])
        }
    }
}
