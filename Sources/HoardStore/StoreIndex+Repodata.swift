import Foundation
import GRDB

/// The stored state of one upstream document (repodata, shard index, channeldata) of a channel.
public struct RepodataRow: Sendable, Hashable {
    public var channel: String
    public var label: String
    /// `""` for channel-level documents such as channeldata.json.
    public var subdir: String
    /// The document's file name: repodata.json, current_repodata.json, repodata_shards.msgpack.zst, ...
    public var name: String
    /// The document as upstream sent it (decompressed when it came as .zst).
    public var digest: BlobDigest
    /// What is served as the document itself (after rewriting absolute URLs).
    public var servedDigest: BlobDigest?
    /// The zstd representation served beside a JSON document, from the same snapshot.
    public var zstDigest: BlobDigest?
    public var upstreamURL: String?
    public var upstreamETag: String?
    public var upstreamLastModified: String?
    public var upstreamCacheControl: String?
    public var upstreamBaseURL: String?
    public var upstreamShardsBaseURL: String?
    public var fetchedAt: Double
    public var validatedAt: Double

    public init(
        channel: String, label: String, subdir: String, name: String, digest: BlobDigest,
        servedDigest: BlobDigest? = nil, zstDigest: BlobDigest? = nil, upstreamURL: String? = nil,
        upstreamETag: String? = nil, upstreamLastModified: String? = nil, upstreamCacheControl: String? = nil,
        upstreamBaseURL: String? = nil, upstreamShardsBaseURL: String? = nil, fetchedAt: Double, validatedAt: Double
    ) {
        self.channel = channel
        self.label = label
        self.subdir = subdir
        self.name = name
        self.digest = digest
        self.servedDigest = servedDigest
        self.zstDigest = zstDigest
        self.upstreamURL = upstreamURL
        self.upstreamETag = upstreamETag
        self.upstreamLastModified = upstreamLastModified
        self.upstreamCacheControl = upstreamCacheControl
        self.upstreamBaseURL = upstreamBaseURL
        self.upstreamShardsBaseURL = upstreamShardsBaseURL
        self.fetchedAt = fetchedAt
        self.validatedAt = validatedAt
    }
}

extension StoreIndex {
    /// The snapshot of a document. A local miss reads the shared record (when there is one) and
    /// caches it, a remembered "not found" included (then this is nil and `missingDocument` has it).
    public func repodata(channel: String, label: String, subdir: String, name: String) async throws -> RepodataRow? {
        let local = try await pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT * FROM repodata WHERE channel = ? AND label = ? AND subdir = ? AND name = ?
                """, arguments: [channel, label, subdir, name]).map { try RepodataRow(row: $0) }
        }
        if local != nil || shared == nil { return local }
        if case .snapshot(let row)? = try await sharedDocument(channel: channel, label: label, subdir: subdir, name: name) { return row }
        return nil
    }

    /// Records a new snapshot (replacing a remembered "not found"). Its blobs must be committed
    /// first. With a shared index the record is written first, unless the bucket holds a newer
    /// word from upstream (another node refreshed since): then that one is cached instead.
    public func saveRepodata(_ row: RepodataRow) async throws {
        if let shared {
            let record = try await sharedRecord(of: row)
            guard try await publishDocument(record, channel: row.channel, label: row.label, subdir: row.subdir, name: row.name, shared: shared)
            else { return }
        }
        try await pool.write { db in try Self.insertRepodata(db, row) }
    }

    /// Every blob the current snapshot of some document uses: eviction keeps them, since without
    /// its documents nothing of a channel can be served (packages are checked against them).
    public func documentDigests() async throws -> Set<BlobDigest> {
        try await pool.read { db in
            let hexes = try String.fetchAll(db, sql: """
                SELECT digest FROM repodata
                UNION SELECT served_digest FROM repodata WHERE served_digest IS NOT NULL
                UNION SELECT zst_digest FROM repodata WHERE zst_digest IS NOT NULL
                """)
            return Set(hexes.compactMap { try? BlobDigest(parsing: $0) })
        }
    }

    /// Notes a successful revalidation (upstream answered 304). With a shared index the whole
    /// row is the record written (compare-and-swap, as `saveRepodata`), then cached.
    public func markRepodataValidated(_ row: RepodataRow) async throws {
        if let shared {
            let record = try await sharedRecord(of: row)
            guard try await publishDocument(record, channel: row.channel, label: row.label, subdir: row.subdir, name: row.name, shared: shared)
            else { return }
            try await pool.write { db in try Self.insertRepodata(db, row) }
            return
        }
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE repodata SET validated_at = ?, upstream_etag = ?, upstream_last_modified = ?, upstream_cache_control = ?
                WHERE channel = ? AND label = ? AND subdir = ? AND name = ?
                """, arguments: [row.validatedAt, row.upstreamETag, row.upstreamLastModified, row.upstreamCacheControl,
                                 row.channel, row.label, row.subdir, row.name])
        }
    }
}

/// Upstream's answer that a document does not exist, remembered for when upstream is down.
public struct MissingDocumentRow: Sendable, Hashable {
    public var channel: String
    public var label: String
    public var subdir: String
    public var name: String
    /// The last URL asked (the last variant tried, for a document with several).
    public var upstreamURL: String
    /// 404, 403 or 410.
    public var status: Int
    /// When upstream last said so (unix seconds).
    public var checkedAt: Double

    public init(channel: String, label: String, subdir: String, name: String, upstreamURL: String, status: Int, checkedAt: Double) {
        self.channel = channel
        self.label = label
        self.subdir = subdir
        self.name = name
        self.upstreamURL = upstreamURL
        self.status = status
        self.checkedAt = checkedAt
    }
}

extension StoreIndex {
    public func missingDocument(channel: String, label: String, subdir: String, name: String) async throws -> MissingDocumentRow? {
        let local = try await pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT * FROM repodata_missing WHERE channel = ? AND label = ? AND subdir = ? AND name = ?
                """, arguments: [channel, label, subdir, name]).map {
                MissingDocumentRow(
                    channel: $0["channel"], label: $0["label"], subdir: $0["subdir"], name: $0["name"],
                    upstreamURL: $0["upstream_url"], status: $0["status"], checkedAt: $0["checked_at"])
            }
        }
        if local != nil || shared == nil { return local }
        if case .missing(let row)? = try await sharedDocument(channel: channel, label: label, subdir: subdir, name: name) { return row }
        return nil
    }

    /// Remembers that upstream does not have a document. With a shared index, as `saveRepodata`:
    /// a newer record in the bucket (a snapshot another node fetched since) wins and is cached.
    public func saveMissingDocument(_ row: MissingDocumentRow) async throws {
        if let shared {
            let record = SharedDocument(missing: .init(upstreamURL: row.upstreamURL, status: row.status, checkedAt: row.checkedAt))
            guard try await publishDocument(record, channel: row.channel, label: row.label, subdir: row.subdir, name: row.name, shared: shared)
            else { return }
        }
        try await pool.write { db in try Self.insertMissingDocument(db, row) }
    }
}

extension RepodataRow {
    init(row: Row) throws {
        func digest(_ column: String) throws -> BlobDigest? {
            guard let text: String = row[column] else { return nil }
            return try BlobDigest(parsing: text)
        }
        guard let source = try digest("digest") else { throw StoreError.index("repodata row without a digest") }
        self.init(
            channel: row["channel"], label: row["label"], subdir: row["subdir"], name: row["name"], digest: source,
            servedDigest: try digest("served_digest"), zstDigest: try digest("zst_digest"), upstreamURL: row["upstream_url"],
            upstreamETag: row["upstream_etag"], upstreamLastModified: row["upstream_last_modified"],
            upstreamCacheControl: row["upstream_cache_control"], upstreamBaseURL: row["upstream_base_url"],
            upstreamShardsBaseURL: row["upstream_shards_base_url"], fetchedAt: row["fetched_at"], validatedAt: row["validated_at"]
        )
    }
}
