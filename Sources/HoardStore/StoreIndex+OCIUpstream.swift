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
        if let shared { return try await sharedOCIUpstreamAdd(shared, registry: registry, repository: repository, digest: digest, mediaType: mediaType) }
        try await pool.write { db in
            try Self.upstreamContentRow(db, registry: registry, repository: repository, digest: digest, mediaType: mediaType)
        }
    }

    /// Whether the content is known, and its media type (nil for a plain blob).
    public func ociUpstreamContent(registry: String, repository: String, digest: BlobDigest) async throws -> (known: Bool, mediaType: String?) {
        if let shared { return try await sharedOCIUpstreamContent(shared, registry: registry, repository: repository, digest: digest) }
        return try await localOCIUpstreamContent(registry: registry, repository: repository, digest: digest)
    }

    public func ociUpstreamTag(registry: String, repository: String, tag: String) async throws -> OCIUpstreamTag? {
        if let shared { return try await sharedOCIUpstreamTag(shared, registry: registry, repository: repository, tag: tag) }
        return try await localOCIUpstreamTag(registry: registry, repository: repository, tag: tag)
    }

    /// Points a tag at a manifest whose blob is committed.
    public func ociUpstreamSetTag(registry: String, repository: String, tag: String, _ value: OCIUpstreamTag) async throws {
        if let shared { return try await sharedOCIUpstreamSetTag(shared, registry: registry, repository: repository, tag: tag, value) }
        try await pool.write { db in try Self.upstreamTagRow(db, registry: registry, repository: repository, tag: tag, value) }
    }

    // MARK: Rows

    func localOCIUpstreamContent(registry: String, repository: String, digest: BlobDigest) async throws -> (known: Bool, mediaType: String?) {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT media_type FROM oci_upstream_content WHERE registry = ? AND repository = ? AND digest = ?
                """, arguments: [registry, repository, digest.hex]) else { return (false, nil) }
            return (true, row["media_type"] as String?)
        }
    }

    func localOCIUpstreamTag(registry: String, repository: String, tag: String) async throws -> OCIUpstreamTag? {
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

    static func upstreamContentRow(_ db: Database, registry: String, repository: String, digest: BlobDigest, mediaType: String?) throws {
        try db.execute(sql: """
            INSERT INTO oci_upstream_content (registry, repository, digest, media_type) VALUES (?, ?, ?, ?)
            ON CONFLICT(registry, repository, digest) DO UPDATE SET media_type = COALESCE(excluded.media_type, media_type)
            """, arguments: [registry, repository, digest.hex, mediaType])
    }

    static func upstreamTagRow(_ db: Database, registry: String, repository: String, tag: String, _ value: OCIUpstreamTag) throws {
        try db.execute(sql: """
            INSERT INTO oci_upstream_tag (registry, repository, tag, digest, media_type, resolved_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(registry, repository, tag) DO UPDATE SET digest = excluded.digest,
                media_type = excluded.media_type, resolved_at = excluded.resolved_at
            """, arguments: [registry, repository, tag, value.digest.hex, value.mediaType, value.resolvedAt])
    }
}
