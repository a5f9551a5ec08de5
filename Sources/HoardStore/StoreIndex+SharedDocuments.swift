import Foundation
import GRDB

/// Channel documents in the shared index: one record per document holding the snapshot (with
/// upstream's validators) or upstream's "not found", written by compare-and-swap so that a
/// refresh that finishes late never overwrites a newer one, and cached in `repodata` /
/// `repodata_missing` here.
extension StoreIndex {
    /// What the bucket holds for a document now, cached here (replacing the cached row): the
    /// document cache asks this before going upstream, so a refresh another node made is used
    /// instead of a request of its own. nil when the bucket holds nothing for it (or there is no
    /// shared index).
    public func sharedDocument(channel: String, label: String, subdir: String, name: String) async throws -> SharedDocumentState? {
        guard let shared else { return nil }
        let recordKey = SharedIndex.documentKey(channel: channel, label: label, subdir: subdir, name: name)
        guard let record = try await shared.read(SharedDocument.self, at: recordKey)?.value else { return nil }
        return try await cacheDocument(record, channel: channel, label: label, subdir: subdir, name: name, key: recordKey)
    }

    /// Writes `record` unless the bucket holds a newer word from upstream for the document; then
    /// that one is cached here instead (the bucket is the truth). Returns whether ours was written.
    func publishDocument(_ record: SharedDocument, channel: String, label: String, subdir: String, name: String, shared: SharedIndex)
        async throws -> Bool
    {
        let recordKey = SharedIndex.documentKey(channel: channel, label: label, subdir: subdir, name: name)
        for _ in 0..<8 {
            let current = try await shared.read(SharedDocument.self, at: recordKey)
            if let current, current.value.stamp > record.stamp {
                _ = try await cacheDocument(current.value, channel: channel, label: label, subdir: subdir, name: name, key: recordKey)
                return false
            }
            let condition: SharedWriteCondition = current.map { .ifMatch($0.version) } ?? .ifAbsent
            if try await shared.write(record, at: recordKey, when: condition) != nil { return true }
            // Another node wrote in between: compare with what it wrote.
        }
        throw StoreError.unavailable(backend: "shared index", reason: "\(recordKey) kept changing through eight compare-and-swap attempts")
    }

    /// The shared record of a snapshot: its row plus the sizes of its blobs (committed first, so
    /// their rows are here).
    func sharedRecord(of row: RepodataRow) async throws -> SharedDocument {
        var snapshot = SharedDocument.Snapshot(
            digest: row.digest.hex, size: try await recordedSize(row.digest),
            upstreamURL: row.upstreamURL, upstreamETag: row.upstreamETag, upstreamLastModified: row.upstreamLastModified,
            upstreamCacheControl: row.upstreamCacheControl, upstreamBaseURL: row.upstreamBaseURL,
            upstreamShardsBaseURL: row.upstreamShardsBaseURL, fetchedAt: row.fetchedAt, validatedAt: row.validatedAt)
        if let served = row.servedDigest {
            snapshot.servedDigest = served.hex
            snapshot.servedSize = try await recordedSize(served)
        }
        if let zst = row.zstDigest {
            snapshot.zstDigest = zst.hex
            snapshot.zstSize = try await recordedSize(zst)
        }
        return SharedDocument(snapshot: snapshot)
    }

    /// Replaces the cached rows of a document with what `record` says.
    @discardableResult
    func cacheDocument(_ record: SharedDocument, channel: String, label: String, subdir: String, name: String, key: SharedKey)
        async throws -> SharedDocumentState?
    {
        let now = Date().timeIntervalSince1970
        if let snapshot = record.snapshot {
            func digest(_ text: String?) throws -> BlobDigest? {
                guard let text else { return nil }
                return try BlobDigest(record: text, key: key)
            }
            guard let source = try digest(snapshot.digest) else { return nil }
            let served = try digest(snapshot.servedDigest)
            let zst = try digest(snapshot.zstDigest)
            let row = RepodataRow(
                channel: channel, label: label, subdir: subdir, name: name, digest: source, servedDigest: served, zstDigest: zst,
                upstreamURL: snapshot.upstreamURL, upstreamETag: snapshot.upstreamETag, upstreamLastModified: snapshot.upstreamLastModified,
                upstreamCacheControl: snapshot.upstreamCacheControl, upstreamBaseURL: snapshot.upstreamBaseURL,
                upstreamShardsBaseURL: snapshot.upstreamShardsBaseURL, fetchedAt: snapshot.fetchedAt, validatedAt: snapshot.validatedAt)
            try await pool.write { db in
                try Self.cacheBlob(db, source, size: snapshot.size, now: now)
                if let served { try Self.cacheBlob(db, served, size: snapshot.servedSize ?? 0, now: now) }
                if let zst { try Self.cacheBlob(db, zst, size: snapshot.zstSize ?? 0, now: now) }
                try Self.insertRepodata(db, row)
            }
            return .snapshot(row)
        }
        guard let missing = record.missing else { return nil }
        let row = MissingDocumentRow(
            channel: channel, label: label, subdir: subdir, name: name, upstreamURL: missing.upstreamURL, status: missing.status,
            checkedAt: missing.checkedAt)
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM repodata WHERE channel = ? AND label = ? AND subdir = ? AND name = ?",
                           arguments: [channel, label, subdir, name])
            try Self.insertMissingDocument(db, row)
        }
        return .missing(row)
    }

    /// Brings the cached documents under `scope` (channel, label: the leading ones given) in line
    /// with the bucket before a listing is answered from them: one listing of
    /// `index/repodata/<scope>/`; documents the bucket no longer has leave the cache, new ones are
    /// read (`rereadAll`: every one, for a rebuild). Cached ones are not read again here: the
    /// document cache reads a document's record before it would go upstream for it.
    func refreshDocuments(_ scope: [String], rereadAll: Bool = false) async throws {
        guard let shared else { return }
        struct Name: Hashable { var channel, label, subdir, name: String }
        var listed: [SharedKey: Name] = [:]
        for summary in try await shared.objects.list(prefix: SharedIndex.directory(SharedIndex.Kind.repodata, scope)) {
            guard let parts = SharedIndex.components(of: summary.key, kind: SharedIndex.Kind.repodata), parts.count == 4 else { continue }
            listed[summary.key] = Name(channel: parts[0], label: parts[1], subdir: parts[2], name: parts[3])
        }
        let filter = zip(["channel", "label"], scope).map { "\($0.0) = ?" }
        let whereClause = filter.isEmpty ? "" : " WHERE " + filter.joined(separator: " AND ")
        let arguments = StatementArguments(Array(scope.prefix(2)))
        let local = try await pool.read { db in
            Set(try Row.fetchAll(db, sql: """
                SELECT channel, label, subdir, name FROM repodata\(whereClause)
                UNION SELECT channel, label, subdir, name FROM repodata_missing\(whereClause)
                """, arguments: arguments + arguments).map { Name(channel: $0["channel"], label: $0["label"], subdir: $0["subdir"], name: $0["name"]) })
        }
        let gone = local.subtracting(listed.values)
        if !gone.isEmpty {
            try await pool.write { db in
                for name in gone {
                    for table in ["repodata", "repodata_missing"] {
                        try db.execute(sql: "DELETE FROM \(table) WHERE channel = ? AND label = ? AND subdir = ? AND name = ?",
                                       arguments: [name.channel, name.label, name.subdir, name.name])
                    }
                }
            }
        }
        let toRead = listed.filter { rereadAll || !local.contains($0.value) }.map(\.key)
        for (recordKey, record) in try await shared.readAll(SharedDocument.self, at: toRead) {
            guard let name = listed[recordKey] else { continue }
            try await cacheDocument(record, channel: name.channel, label: name.label, subdir: name.subdir, name: name.name, key: recordKey)
        }
    }

    static func insertRepodata(_ db: Database, _ row: RepodataRow) throws {
        try db.execute(sql: """
            DELETE FROM repodata_missing WHERE channel = ? AND label = ? AND subdir = ? AND name = ?
            """, arguments: [row.channel, row.label, row.subdir, row.name])
        try db.execute(sql: """
            INSERT OR REPLACE INTO repodata (channel, label, subdir, name, digest, served_digest, zst_digest,
                upstream_url, upstream_etag, upstream_last_modified, upstream_cache_control,
                upstream_base_url, upstream_shards_base_url, fetched_at, validated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [
                row.channel, row.label, row.subdir, row.name, row.digest.hex, row.servedDigest?.hex, row.zstDigest?.hex,
                row.upstreamURL, row.upstreamETag, row.upstreamLastModified, row.upstreamCacheControl,
                row.upstreamBaseURL, row.upstreamShardsBaseURL, row.fetchedAt, row.validatedAt,
            ])
    }

    static func insertMissingDocument(_ db: Database, _ row: MissingDocumentRow) throws {
        try db.execute(sql: """
            INSERT OR REPLACE INTO repodata_missing (channel, label, subdir, name, upstream_url, status, checked_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [row.channel, row.label, row.subdir, row.name, row.upstreamURL, row.status, row.checkedAt])
    }
}
