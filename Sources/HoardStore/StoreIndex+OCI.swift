import Foundation
import GRDB

/// A manifest as the index records it: the blob holding its exact bytes and what the referrers
/// API needs without re-reading them.
public struct OCIManifestRecord: Sendable, Hashable {
    public let repository: String
    /// The sha256 of the manifest bytes: the blob that holds them.
    public let digest: BlobDigest
    public let mediaType: String
    public let artifactType: String?
    /// The `subject` descriptor's digest as written (`sha256:…` or `sha512:…`), if any.
    public let subject: String?
    /// The digest the manifest was pushed under when not its sha256 (`sha512:…`), else nil.
    public let pushedDigest: String?

    /// The digest clients know the manifest by.
    public var clientDigest: String { pushedDigest ?? digest.description }

    public init(repository: String, digest: BlobDigest, mediaType: String, artifactType: String?, subject: String?, pushedDigest: String? = nil) {
        self.pushedDigest = pushedDigest
        self.repository = repository
        self.digest = digest
        self.mediaType = mediaType
        self.artifactType = artifactType
        self.subject = subject
    }
}

/// The OCI front's names: repositories, manifests, tags, blob membership, and the aliases that
/// map non-sha256 digests (sha512) to the sha256 that names the blob in the store.
///
/// Every write is one transaction, and every row references a committed blob (blob first, then
/// name). Content pushed here exists nowhere else, so its blobs are pinned; when the last OCI name
/// of a blob goes away the pin is dropped and eviction may reclaim it.
extension StoreIndex {
    // MARK: Aliases

    /// The sha256 blob a `sha512:<hex>` (or other non-sha256) digest names, if known.
    public func ociAlias(_ alias: String) async throws -> BlobDigest? {
        if let shared { return try await sharedOCIAlias(shared, alias) }
        return try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT digest FROM oci_digest_alias WHERE alias = ?", arguments: [alias])
        }.flatMap { try? BlobDigest(parsing: $0) }
    }

    // MARK: Blobs

    /// Makes `digest` a blob of `repository` (creating the repository), pinned, with an optional
    /// alias such as `sha512:<hex>`.
    public func ociAddBlob(repository: String, digest: BlobDigest, alias: String? = nil) async throws {
        if let shared { return try await sharedOCIAddBlob(shared, repository: repository, digest: digest, alias: alias) }
        try await pool.write { db in try Self.addBlobRows(db, repository: repository, digest: digest, alias: alias) }
    }

    /// Whether `repository` holds `digest` as a blob (or as a manifest, which clients may fetch
    /// through the blobs endpoint too).
    public func ociHasBlob(repository: String, digest: BlobDigest) async throws -> Bool {
        if let shared { return try await sharedOCIHasBlob(shared, repository: repository, digest: digest) }
        return try await pool.read { db in
            try Bool.fetchOne(db, sql: """
                SELECT EXISTS(SELECT 1 FROM oci_blob WHERE repository = ? AND digest = ?)
                    OR EXISTS(SELECT 1 FROM oci_manifest WHERE repository = ? AND digest = ?)
                """, arguments: [repository, digest.hex, repository, digest.hex]) ?? false
        }
    }

    /// Removes a blob from a repository; true when it was there. The blob itself stays in the
    /// store (other repositories or fronts may name it) but loses its pin when nothing OCI names it.
    @discardableResult
    public func ociRemoveBlob(repository: String, digest: BlobDigest) async throws -> Bool {
        if let shared { return try await sharedOCIRemoveBlob(shared, repository: repository, digest: digest) }
        return try await pool.write { db in try Self.removeBlobRow(db, repository: repository, digest: digest) }
    }

    // MARK: Manifests and tags

    /// Records a manifest whose bytes are committed as blob `record.digest`, and points `tags` at
    /// it, in one transaction.
    public func ociPutManifest(_ record: OCIManifestRecord, tags: [String], now: Double = Date().timeIntervalSince1970) async throws {
        if let shared { return try await sharedOCIPutManifest(shared, record, tags: tags, now: now) }
        try await pool.write { db in try Self.putManifestRows(db, record, tags: tags, now: now) }
    }

    public func ociManifest(repository: String, digest: BlobDigest) async throws -> OCIManifestRecord? {
        if let shared { return try await sharedOCIManifest(shared, repository: repository, digest: digest) }
        return try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM oci_manifest WHERE repository = ? AND digest = ?", arguments: [repository, digest.hex])
                .flatMap(OCIManifestRecord.init(row:))
        }
    }

    /// The manifest a tag points at.
    public func ociTag(repository: String, tag: String) async throws -> BlobDigest? {
        if let shared { return try await sharedOCITag(shared, repository: repository, tag: tag) }
        return try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT digest FROM oci_tag WHERE repository = ? AND tag = ?", arguments: [repository, tag])
        }.flatMap { try? BlobDigest(parsing: $0) }
    }

    /// Deletes a manifest and, by cascade, every tag pointing at it; true when it existed.
    @discardableResult
    public func ociDeleteManifest(repository: String, digest: BlobDigest) async throws -> Bool {
        if let shared { return try await sharedOCIDeleteManifest(shared, repository: repository, digest: digest) }
        return try await pool.write { db in try Self.deleteManifestRow(db, repository: repository, digest: digest) }
    }

    /// Deletes one tag (the manifest stays); true when it existed.
    @discardableResult
    public func ociDeleteTag(repository: String, tag: String) async throws -> Bool {
        if let shared { return try await sharedOCIDeleteTag(shared, repository: repository, tag: tag) }
        return try await pool.write { db in try Self.deleteTagRow(db, repository: repository, tag: tag) }
    }

    // MARK: Listing

    /// The tags of a repository in lexical (byte) order, or nil when the repository is unknown.
    public func ociTags(repository: String) async throws -> [String]? {
        if let shared { return try await sharedOCITags(shared, repository: repository) }
        return try await pool.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM oci_repository WHERE name = ?)", arguments: [repository]) == true else {
                return nil
            }
            return try String.fetchAll(db, sql: "SELECT tag FROM oci_tag WHERE repository = ? ORDER BY tag COLLATE BINARY", arguments: [repository])
        }
    }

    /// Every repository name in lexical order.
    public func ociRepositories() async throws -> [String] {
        if let shared { return try await sharedOCIRepositories(shared) }
        return try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM oci_repository ORDER BY name COLLATE BINARY")
        }
    }

    /// Manifests of `repository` whose subject is `subject` (a digest string).
    public func ociReferrers(repository: String, subject: String) async throws -> [OCIManifestRecord] {
        if let shared { return try await sharedOCIReferrers(shared, repository: repository, subject: subject) }
        return try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM oci_manifest WHERE repository = ? AND subject = ? ORDER BY digest", arguments: [repository, subject])
                .compactMap(OCIManifestRecord.init(row:))
        }
    }

    // MARK: Rows (one transaction's worth each; shared by the single-node and shared paths)

    static func addBlobRows(_ db: Database, repository: String, digest: BlobDigest, alias: String?) throws {
        try ensureRepository(db, repository)
        try db.execute(sql: "INSERT OR IGNORE INTO oci_blob (repository, digest) VALUES (?, ?)", arguments: [repository, digest.hex])
        try pin(db, digest)
        if let alias { try addAlias(db, alias, digest) }
    }

    static func removeBlobRow(_ db: Database, repository: String, digest: BlobDigest) throws -> Bool {
        try db.execute(sql: "DELETE FROM oci_blob WHERE repository = ? AND digest = ?", arguments: [repository, digest.hex])
        let removed = db.changesCount > 0
        if removed { try unpinIfUnnamed(db, digest) }
        return removed
    }

    static func deleteManifestRow(_ db: Database, repository: String, digest: BlobDigest) throws -> Bool {
        try db.execute(sql: "DELETE FROM oci_manifest WHERE repository = ? AND digest = ?", arguments: [repository, digest.hex])
        let removed = db.changesCount > 0
        if removed { try unpinIfUnnamed(db, digest) }
        return removed
    }

    static func deleteTagRow(_ db: Database, repository: String, tag: String) throws -> Bool {
        try db.execute(sql: "DELETE FROM oci_tag WHERE repository = ? AND tag = ?", arguments: [repository, tag])
        return db.changesCount > 0
    }

    static func putManifestRows(_ db: Database, _ record: OCIManifestRecord, tags: [String], now: Double) throws {
        try Self.ensureRepository(db, record.repository)
        try db.execute(sql: """
            INSERT INTO oci_manifest (repository, digest, media_type, artifact_type, subject, created_at, pushed_digest)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(repository, digest) DO UPDATE SET media_type = excluded.media_type,
                artifact_type = excluded.artifact_type, subject = excluded.subject,
                pushed_digest = excluded.pushed_digest
            """, arguments: [record.repository, record.digest.hex, record.mediaType, record.artifactType, record.subject, now, record.pushedDigest])
        for tag in tags {
            try db.execute(sql: """
                INSERT INTO oci_tag (repository, tag, digest, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(repository, tag) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at
                """, arguments: [record.repository, tag, record.digest.hex, now])
        }
        try Self.pin(db, record.digest)
        if let alias = record.pushedDigest { try Self.addAlias(db, alias, record.digest) }
    }

    // MARK: Helpers

    static func ensureRepository(_ db: Database, _ name: String) throws {
        try db.execute(sql: "INSERT OR IGNORE INTO oci_repository (name, created_at) VALUES (?, ?)", arguments: [name, Date().timeIntervalSince1970])
    }

    static func pin(_ db: Database, _ digest: BlobDigest) throws {
        try db.execute(sql: "UPDATE blob SET pinned = 1 WHERE digest = ?", arguments: [digest.hex])
    }

    static func addAlias(_ db: Database, _ alias: String, _ digest: BlobDigest) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO oci_digest_alias (alias, digest) VALUES (?, ?)", arguments: [alias, digest.hex])
    }

    /// Pushed content is pinned only while the OCI front names it.
    static func unpinIfUnnamed(_ db: Database, _ digest: BlobDigest) throws {
        try db.execute(sql: """
            UPDATE blob SET pinned = 0 WHERE digest = ?
                AND NOT EXISTS(SELECT 1 FROM oci_blob WHERE digest = ?)
                AND NOT EXISTS(SELECT 1 FROM oci_manifest WHERE digest = ?)
            """, arguments: [digest.hex, digest.hex, digest.hex])
    }
}

extension OCIManifestRecord {
    init?(row: Row) {
        guard let digest = try? BlobDigest(parsing: row["digest"] as String) else { return nil }
        self.init(
            repository: row["repository"], digest: digest, mediaType: row["media_type"], artifactType: row["artifact_type"],
            subject: row["subject"], pushedDigest: row["pushed_digest"])
    }
}
