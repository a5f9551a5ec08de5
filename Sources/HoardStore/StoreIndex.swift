import Foundation
import GRDB

/// A committed blob as the index knows it.
public struct BlobRecord: Sendable, Hashable {
    public let digest: BlobDigest
    public let size: Int64
    public let createdAt: Double
    public let lastAccess: Double
    public let pinned: Bool
}

/// The SQLite index (WAL mode, through GRDB): the only place where blobs get names.
///
/// Commit order is blob, then row; deletion is row, then blob. Foreign keys cascade, so removing
/// a blob's row removes every name that pointed at it.
public final class StoreIndex: Sendable {
    let pool: DatabasePool
    /// The names shared with other nodes (scale-out over one bucket), nil for a single node: then
    /// this SQLite file is the truth; with it, the shared index is, and this file caches it.
    public let shared: SharedIndex?

    public init(path: String, shared: SharedIndex? = nil) throws(StoreError) {
        self.shared = shared
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.label = "hoard-index"
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            let migrator = IndexSchema.migrator
            if try pool.read({ try migrator.hasBeenSuperseded($0) }) {
                throw StoreError.index("\(path) was written by a newer hoard; upgrade hoard to open it")
            }
            try migrator.migrate(pool)
        } catch let error as StoreError {
            throw error
        } catch {
            throw .index("cannot open \(path): \(error)")
        }
    }

    // MARK: Blobs

    /// Records a committed blob, or refreshes its access time when it is already known.
    public func recordBlob(_ digest: BlobDigest, size: Int64, pinned: Bool = false, now: Double = Date().timeIntervalSince1970) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO blob (digest, size, created_at, last_access, pinned) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(digest) DO UPDATE SET last_access = excluded.last_access,
                    pinned = MAX(pinned, excluded.pinned)
                """, arguments: [digest.hex, size, now, now, pinned])
        }
    }

    public func blob(_ digest: BlobDigest) async throws -> BlobRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM blob WHERE digest = ?", arguments: [digest.hex])
                .map { try BlobRecord(row: $0) }
        }
    }

    public func allBlobs() async throws -> [BlobRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM blob ORDER BY digest").map { try BlobRecord(row: $0) }
        }
    }

    /// Number of blobs and their total size.
    public func totals() async throws -> (count: Int, bytes: Int64) {
        try await pool.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM blob")!
            return (row["n"], row["bytes"])
        }
    }

    /// Removes blob rows and, through the foreign keys, every name that pointed at them.
    public func removeBlobs(_ digests: [BlobDigest]) async throws {
        guard !digests.isEmpty else { return }
        try await pool.write { db in
            for digest in digests {
                try db.execute(sql: "DELETE FROM blob WHERE digest = ?", arguments: [digest.hex])
            }
        }
    }

    /// Moves access times forward (never back) in one transaction.
    public func recordAccess(_ times: [BlobDigest: Double]) async throws {
        guard !times.isEmpty else { return }
        try await pool.write { db in
            let statement = try db.cachedStatement(sql: "UPDATE blob SET last_access = MAX(last_access, ?) WHERE digest = ?")
            for (digest, time) in times {
                try statement.execute(arguments: [time, digest.hex])
            }
        }
    }

    public func setSize(_ digest: BlobDigest, _ size: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE blob SET size = ? WHERE digest = ?", arguments: [size, digest.hex])
        }
    }

    public func setPinned(_ digest: BlobDigest, _ pinned: Bool) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE blob SET pinned = ? WHERE digest = ?", arguments: [pinned, digest.hex])
        }
    }

    /// The least recently used unpinned blobs, oldest first.
    public func evictionCandidates(limit: Int) async throws -> [BlobRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM blob WHERE pinned = 0 ORDER BY last_access, digest LIMIT ?
                """, arguments: [limit]).map { try BlobRecord(row: $0) }
        }
    }

    // MARK: conda files

    /// Names a committed blob as a conda file. The blob row must exist (blob first, then name).
    /// With a shared index the shared record is written first (the truth), then the local row.
    public func setCondaFile(_ key: CondaFileKey, digest: BlobDigest) async throws {
        if let shared {
            let record = SharedCondaFile(digest: digest.hex, size: try await recordedSize(digest))
            try await shared.write(record, at: SharedIndex.condaKey(key))
        }
        try await pool.write { db in try Self.insertCondaFile(db, key, digest: digest) }
    }

    /// The blob a conda file names. A local miss reads the shared record (when there is one) and
    /// caches it: a package another node named is found here without asking upstream.
    public func condaFile(_ key: CondaFileKey) async throws -> BlobDigest? {
        let local = try await pool.read { db in
            try String.fetchOne(db, sql: """
                SELECT digest FROM conda_file WHERE channel = ? AND label = ? AND subdir = ? AND filename = ?
                """, arguments: [key.channel, key.label, key.subdir, key.filename])
        }
        if let local { return try? BlobDigest(parsing: local) }
        guard let shared else { return nil }
        return try await sharedCondaFile(key, shared: shared)
    }

    static func insertCondaFile(_ db: Database, _ key: CondaFileKey, digest: BlobDigest) throws {
        try db.execute(sql: """
            INSERT INTO conda_file (channel, label, subdir, filename, digest) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(channel, label, subdir, filename) DO UPDATE SET digest = excluded.digest
            """, arguments: [key.channel, key.label, key.subdir, key.filename, digest.hex])
    }
}

/// The name of a conda file in the index.
public struct CondaFileKey: Sendable, Hashable {
    public let channel: String
    /// `""` for the channel's main label.
    public let label: String
    public let subdir: String
    public let filename: String

    public init(channel: String, label: String = "", subdir: String, filename: String) {
        self.channel = channel
        self.label = label
        self.subdir = subdir
        self.filename = filename
    }
}

extension BlobRecord {
    init(row: Row) throws {
        let text: String = row["digest"]
        guard let digest = try? BlobDigest(parsing: text) else {
            throw StoreError.index("the index holds a malformed digest '\(text)'; run hoard verify --repair")
        }
        self.digest = digest
        size = row["size"]
        createdAt = row["created_at"]
        lastAccess = row["last_access"]
        pinned = row["pinned"]
    }
}
