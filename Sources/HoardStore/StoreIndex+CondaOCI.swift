import Foundation
import GRDB

/// The derived `info/` layers of one package archive (table `conda_oci_info`, migration v6).
public struct CondaInfoLayersRow: Sendable, Hashable {
    /// The archive's sha256 (the package blob).
    public var archive: BlobDigest
    public var subdir: String
    /// Which way of making the layers produced them (HoardCondaOCI's `InfoLayerRecipe`).
    public var recipe: Int
    public var infoTarGz: BlobDigest
    public var infoTarGzSize: Int64
    public var indexJSON: BlobDigest
    public var indexJSONSize: Int64

    public init(
        archive: BlobDigest, subdir: String, recipe: Int, infoTarGz: BlobDigest, infoTarGzSize: Int64, indexJSON: BlobDigest,
        indexJSONSize: Int64
    ) {
        self.archive = archive
        self.subdir = subdir
        self.recipe = recipe
        self.infoTarGz = infoTarGz
        self.infoTarGzSize = infoTarGzSize
        self.indexJSON = indexJSON
        self.indexJSONSize = indexJSONSize
    }
}

/// A conda file the index names, with the blob's size.
public struct CondaFileRow: Sendable, Hashable {
    public var key: CondaFileKey
    public var digest: BlobDigest
    public var size: Int64
}

extension StoreIndex {
    // MARK: Derived info layers

    /// The layers of an archive. A local miss reads the shared record (when there is one) and caches it.
    public func condaInfoLayers(archive: BlobDigest, subdir: String) async throws -> CondaInfoLayersRow? {
        let local = try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM conda_oci_info WHERE archive_digest = ? AND subdir = ?", arguments: [archive.hex, subdir])
                .flatMap(CondaInfoLayersRow.init(row:))
        }
        if local != nil || shared == nil { return local }
        return try await sharedCondaInfoLayers(archive: archive, subdir: subdir)
    }

    /// The rows whose info.tar.gz or index.json is `digest` (a layer blob asked for by digest).
    /// With a shared index, a local miss lists the layer's pointers in the bucket and caches the rows.
    public func condaInfoLayers(layer digest: BlobDigest) async throws -> [CondaInfoLayersRow] {
        let local = try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM conda_oci_info WHERE info_tar_gz = ? UNION SELECT * FROM conda_oci_info WHERE index_json = ?
                """, arguments: [digest.hex, digest.hex]).compactMap(CondaInfoLayersRow.init(row:))
        }
        if !local.isEmpty || shared == nil { return local }
        return try await sharedCondaInfoLayers(layer: digest)
    }

    /// Records (or replaces) the layers of an archive. Their blobs need not stay: they are
    /// derived, hence evictable, and made again to the same digest when asked for.
    /// With a shared index the shared records are written first (the row and a pointer per layer).
    public func saveCondaInfoLayers(_ row: CondaInfoLayersRow, now: Double = Date().timeIntervalSince1970) async throws {
        if let shared { try await publishCondaInfoLayers(row, now: now, shared: shared) }
        try await pool.write { db in try Self.insertCondaInfoLayers(db, row, createdAt: now) }
    }

    static func insertCondaInfoLayers(_ db: Database, _ row: CondaInfoLayersRow, createdAt: Double) throws {
        try db.execute(sql: """
            INSERT OR REPLACE INTO conda_oci_info (archive_digest, subdir, recipe, info_tar_gz, info_tar_gz_size,
                index_json, index_json_size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [row.archive.hex, row.subdir, row.recipe, row.infoTarGz.hex, row.infoTarGzSize,
                             row.indexJSON.hex, row.indexJSONSize, createdAt])
    }

    /// Every row (export carries them so an import does not extract again). With a shared index,
    /// those this node has cached (`hoard index rebuild` caches them all).
    public func allCondaInfoLayers() async throws -> [CondaInfoLayersRow] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM conda_oci_info ORDER BY archive_digest, subdir").compactMap(CondaInfoLayersRow.init(row:))
        }
    }

    // MARK: Inventory (what the store holds, for sync and export)

    /// The conda files named under a channel (all labels, all subdirs unless one is given),
    /// whose blob is recorded, sorted by subdir then filename. Shards (`shards/<hex>...`) included.
    /// With a shared index, the cached names are first refreshed from a listing of the bucket.
    public func condaFiles(channel: String, label: String = "", subdir: String? = nil) async throws -> [CondaFileRow] {
        if shared != nil { try await refreshCondaNames([channel, label] + (subdir.map { [$0] } ?? [])) }
        return try await pool.read { db in
            var sql = """
                SELECT f.channel, f.label, f.subdir, f.filename, f.digest, b.size FROM conda_file f JOIN blob b ON b.digest = f.digest
                WHERE f.channel = ? AND f.label = ?
                """
            var arguments: StatementArguments = [channel, label]
            if let subdir {
                sql += " AND f.subdir = ?"
                arguments += [subdir]
            }
            sql += " ORDER BY f.subdir, f.filename"
            return try Row.fetchAll(db, sql: sql, arguments: arguments).compactMap { row -> CondaFileRow? in
                guard let digest = try? BlobDigest(parsing: row["digest"] as String) else { return nil }
                return CondaFileRow(
                    key: CondaFileKey(channel: row["channel"], label: row["label"], subdir: row["subdir"], filename: row["filename"]),
                    digest: digest, size: row["size"])
            }
        }
    }

    /// The channels the store holds anything for (files or documents), sorted.
    public func condaChannels() async throws -> [String] {
        // With a shared index, from listings of the bucket (the truth) alone.
        if let shared { return try await sharedCondaChannels(shared: shared).sorted() }
        return try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT channel FROM conda_file UNION SELECT channel FROM repodata ORDER BY 1")
        }
    }

    /// Every document row of a channel (main label), sorted by subdir and name.
    public func repodataRows(channel: String, label: String = "") async throws -> [RepodataRow] {
        if shared != nil { try await refreshDocuments([channel, label]) }
        return try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM repodata WHERE channel = ? AND label = ? ORDER BY subdir, name", arguments: [channel, label])
                .map { try RepodataRow(row: $0) }
        }
    }
}

extension CondaInfoLayersRow {
    init?(row: Row) {
        guard let archive = try? BlobDigest(parsing: row["archive_digest"] as String),
            let tgz = try? BlobDigest(parsing: row["info_tar_gz"] as String),
            let index = try? BlobDigest(parsing: row["index_json"] as String)
        else { return nil }
        self.init(
            archive: archive, subdir: row["subdir"], recipe: row["recipe"], infoTarGz: tgz, infoTarGzSize: row["info_tar_gz_size"],
            indexJSON: index, indexJSONSize: row["index_json_size"])
    }
}
