import Foundation
import GRDB

/// This node's rows as a cache of the OCI records in the bucket: what a read through the shared
/// index adopts, and what it drops when the bucket no longer has it. Every adoption checks the
/// local row first and writes only when it differs, so a warm node's reads stay reads.
extension StoreIndex {
    /// The size of a blob this node has a row for; the shared records carry it so other nodes can
    /// adopt the row. A name is written only after its blob is committed (and recorded here).
    func committedBlobSize(_ digest: BlobDigest) async throws -> Int64 {
        let size = try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT size FROM blob WHERE digest = ?", arguments: [digest.hex])
        }
        guard let size else { throw StoreError.blobNotFound(digest) }
        return size
    }

    /// A row for a blob another node committed (the shared record vouches for it and gives its
    /// size); an existing row keeps its times, and gains the pin when asked.
    static func adoptBlobRow(_ db: Database, _ digest: BlobDigest, size: Int64, pinned: Bool, now: Double = Date().timeIntervalSince1970) throws {
        try db.execute(sql: """
            INSERT INTO blob (digest, size, created_at, last_access, pinned) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(digest) DO UPDATE SET pinned = MAX(pinned, excluded.pinned)
            """, arguments: [digest.hex, size, now, now, pinned])
    }

    /// Caches a manifest read from the bucket (with its blob and repository rows).
    func cacheManifestRow(_ record: OCIManifestRecord, size: Int64, createdAt: Double) async throws {
        let current = try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM oci_manifest WHERE repository = ? AND digest = ?", arguments: [record.repository, record.digest.hex])
                .flatMap(OCIManifestRecord.init(row:))
        }
        guard current != record else { return }
        try await pool.write { db in
            try Self.adoptBlobRow(db, record.digest, size: size, pinned: true)
            try Self.putManifestRows(db, record, tags: [], now: createdAt)
        }
    }

    /// Caches a blob link read from the bucket.
    func cacheBlobLink(repository: String, digest: BlobDigest, size: Int64) async throws {
        let cached = try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM oci_blob WHERE repository = ? AND digest = ?)", arguments: [repository, digest.hex]) ?? false
        }
        guard !cached else { return }
        try await pool.write { db in
            try Self.adoptBlobRow(db, digest, size: size, pinned: true)
            try Self.addBlobRows(db, repository: repository, digest: digest, alias: nil)
        }
    }

    /// Drops a manifest row (and, by cascade, its tag rows) the bucket no longer has.
    func dropCachedManifest(repository: String, digest: BlobDigest) async throws {
        let cached = try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM oci_manifest WHERE repository = ? AND digest = ?)", arguments: [repository, digest.hex]) ?? false
        }
        guard cached else { return }
        _ = try await pool.write { db in try Self.deleteManifestRow(db, repository: repository, digest: digest) }
    }

    /// Drops a blob link row the bucket no longer has.
    func dropCachedBlobLink(repository: String, digest: BlobDigest) async throws {
        let cached = try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM oci_blob WHERE repository = ? AND digest = ?)", arguments: [repository, digest.hex]) ?? false
        }
        guard cached else { return }
        _ = try await pool.write { db in try Self.removeBlobRow(db, repository: repository, digest: digest) }
    }

    /// Whether this node has a row for the repository (then the bucket has its catalog record:
    /// rows are written after it, or adopted from it, and neither is ever removed).
    func hasCachedRepository(_ repository: String) async throws -> Bool {
        try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM oci_repository WHERE name = ?)", arguments: [repository]) ?? false
        }
    }
}
