import Foundation
import GRDB

/// What `hoard status` reports about a store, read from its index (read-only, beside a running
/// server): totals, packages per channel, and when each channel document was last fetched and
/// last confirmed current with its upstream.
public struct StoreStatus: Sendable, Codable, Equatable {
    public struct Channel: Sendable, Codable, Equatable {
        public var name: String
        /// Package files (.conda, .tar.bz2) held, and their bytes.
        public var packages: Int
        public var packageBytes: Int64
    }

    public struct Document: Sendable, Codable, Equatable {
        public var channel: String
        /// The label ('' is the main label).
        public var label: String
        public var subdir: String
        public var name: String
        /// When its bytes last came from upstream.
        public var fetchedAt: Date
        /// When upstream last confirmed it (a 200 or a 304).
        public var validatedAt: Date
        public var upstreamURL: String?
    }

    public var blobs: Int
    public var bytes: Int64
    /// Pushed OCI content: never evicted.
    public var pinnedBlobs: Int
    public var pinnedBytes: Int64
    public var channels: [Channel]
    public var documents: [Document]
    public var ociRepositories: Int
    public var ociTags: Int
}

extension ReadOnlyIndex {
    /// The store's status, in one read transaction (one consistent snapshot).
    public func status() async throws -> StoreStatus {
        try await read { db in
            let totals = try Row.fetchOne(db, sql: """
                SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes,
                       COALESCE(SUM(pinned), 0) AS pinned_n, COALESCE(SUM(CASE WHEN pinned = 1 THEN size ELSE 0 END), 0) AS pinned_bytes
                FROM blob
                """)
            let channels = try Row.fetchAll(db, sql: """
                SELECT f.channel AS channel, COUNT(*) AS n, COALESCE(SUM(b.size), 0) AS bytes
                FROM conda_file f JOIN blob b ON b.digest = f.digest
                WHERE f.filename LIKE '%.conda' OR f.filename LIKE '%.tar.bz2'
                GROUP BY f.channel ORDER BY f.channel
                """).map { row in
                StoreStatus.Channel(name: row["channel"], packages: row["n"], packageBytes: row["bytes"])
            }
            let documents = try Row.fetchAll(db, sql: """
                SELECT channel, label, subdir, name, fetched_at, validated_at, upstream_url FROM repodata
                ORDER BY channel, label, subdir, name
                """).map { row in
                StoreStatus.Document(
                    channel: row["channel"], label: row["label"], subdir: row["subdir"], name: row["name"],
                    fetchedAt: Date(timeIntervalSince1970: row["fetched_at"]),
                    validatedAt: Date(timeIntervalSince1970: row["validated_at"]),
                    upstreamURL: row["upstream_url"])
            }
            let repositories = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM oci_repository") ?? 0
            let tags = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM oci_tag") ?? 0
            return StoreStatus(
                blobs: totals?["n"] ?? 0, bytes: totals?["bytes"] ?? 0,
                pinnedBlobs: totals?["pinned_n"] ?? 0, pinnedBytes: totals?["pinned_bytes"] ?? 0,
                channels: channels, documents: documents, ociRepositories: repositories, ociTags: tags)
        }
    }
}
