import Foundation
import GRDB

/// How this node's SQLite caches the conda side of the shared index (`shared` set: several nodes
/// over one bucket). The bucket is the truth; a row here is a copy of a shared record, made when
/// a lookup missed (read-through) or when a listing was refreshed from the bucket.
///
/// A cached name needs its blob's row (foreign keys): the row is made from the size the shared
/// record carries. Whether the blob is still in the bucket is checked where it is served
/// (`Store.existingBlob`), which drops the row (and its names) when it is gone.
extension StoreIndex {
    /// The size of a committed blob as its row records it (a shared name carries it).
    func recordedSize(_ digest: BlobDigest) async throws -> Int64 {
        let size = try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT size FROM blob WHERE digest = ?", arguments: [digest.hex])
        }
        guard let size else { throw StoreError.blobNotFound(digest) }
        return size
    }

    /// A row for a blob a shared record names, unless there is one already.
    static func cacheBlob(_ db: Database, _ digest: BlobDigest, size: Int64, now: Double) throws {
        try db.execute(sql: """
            INSERT INTO blob (digest, size, created_at, last_access, pinned) VALUES (?, ?, ?, ?, 0)
            ON CONFLICT(digest) DO NOTHING
            """, arguments: [digest.hex, size, now, now])
    }

    // MARK: Conda names

    /// Reads one conda name from the bucket and caches it.
    func sharedCondaFile(_ key: CondaFileKey, shared: SharedIndex) async throws -> BlobDigest? {
        let recordKey = SharedIndex.condaKey(key)
        guard let record = try await shared.read(SharedCondaFile.self, at: recordKey)?.value else { return nil }
        let digest = try BlobDigest(record: record.digest, key: recordKey)
        try await cacheCondaFiles([(key, digest, record.size)])
        return digest
    }

    func cacheCondaFiles(_ rows: [(key: CondaFileKey, digest: BlobDigest, size: Int64)]) async throws {
        guard !rows.isEmpty else { return }
        let now = Date().timeIntervalSince1970
        try await pool.write { db in
            for row in rows {
                try Self.cacheBlob(db, row.digest, size: row.size, now: now)
                try Self.insertCondaFile(db, row.key, digest: row.digest)
            }
        }
    }

    /// Brings the cached conda names under `scope` (channel, label, subdir: the leading ones
    /// given) in line with the bucket before a listing is answered from them: one listing of
    /// `index/conda/<scope>/`; names the bucket no longer has leave the cache, names new to this
    /// node are read and cached (`rereadAll`: every listed name is read again, for a rebuild).
    /// Names are immutable in practice (a package file never changes), so a cached one is not read again.
    func refreshCondaNames(_ scope: [String], rereadAll: Bool = false) async throws {
        guard let shared else { return }
        var listed: [SharedKey: CondaFileKey] = [:]
        for summary in try await shared.objects.list(prefix: SharedIndex.directory(SharedIndex.Kind.conda, scope)) {
            guard let parts = SharedIndex.components(of: summary.key, kind: SharedIndex.Kind.conda), parts.count == 4 else { continue }
            listed[summary.key] = CondaFileKey(channel: parts[0], label: parts[1], subdir: parts[2], filename: parts[3])
        }
        let local = try await localCondaKeys(scope)
        let names = Set(listed.values)
        let gone = local.subtracting(names)
        if !gone.isEmpty {
            try await pool.write { db in
                for key in gone {
                    try db.execute(sql: "DELETE FROM conda_file WHERE channel = ? AND label = ? AND subdir = ? AND filename = ?",
                                   arguments: [key.channel, key.label, key.subdir, key.filename])
                }
            }
        }
        let toRead = listed.filter { rereadAll || !local.contains($0.value) }.map(\.key)
        var rows: [(key: CondaFileKey, digest: BlobDigest, size: Int64)] = []
        for (recordKey, record) in try await shared.readAll(SharedCondaFile.self, at: toRead) {
            guard let key = listed[recordKey] else { continue }
            rows.append((key, try BlobDigest(record: record.digest, key: recordKey), record.size))
        }
        try await cacheCondaFiles(rows)
    }

    private func localCondaKeys(_ scope: [String]) async throws -> Set<CondaFileKey> {
        let filter = zip(["channel", "label", "subdir"], scope).map { "\($0.0) = ?" }
        let sql = "SELECT channel, label, subdir, filename FROM conda_file" + (filter.isEmpty ? "" : " WHERE " + filter.joined(separator: " AND "))
        let arguments = StatementArguments(Array(scope.prefix(3)))
        return try await pool.read { db in
            Set(try Row.fetchAll(db, sql: sql, arguments: arguments).map {
                CondaFileKey(channel: $0["channel"], label: $0["label"], subdir: $0["subdir"], filename: $0["filename"])
            })
        }
    }

    /// The channels the bucket names anything for (conda files or documents), from listings.
    func sharedCondaChannels(shared: SharedIndex) async throws -> Set<String> {
        var channels: Set<String> = []
        for kind in [SharedIndex.Kind.conda, SharedIndex.Kind.repodata] {
            for summary in try await shared.objects.list(prefix: SharedIndex.directory(kind, [])) {
                if let channel = SharedIndex.components(of: summary.key, kind: kind)?.first { channels.insert(channel) }
            }
        }
        return channels
    }
}
