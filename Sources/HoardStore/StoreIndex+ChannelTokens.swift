import Foundation
import GRDB

/// Tokens for protected channels (`hoard token`); the server reads them on every request that
/// carries one, so a revocation takes effect at once, even while `hoard serve` runs (SQLite's
/// WAL lets `hoard token` write beside it).
extension StoreIndex {
    /// Records a new token (by its hash) and returns its record.
    public func addChannelToken(channel: String, tokenHash: String, expiresAt: Double?, now: Double = Date().timeIntervalSince1970) async throws
        -> ChannelTokenRecord
    {
        let id = ChannelToken.id(ofHash: tokenHash)
        let record = ChannelTokenRecord(id: id, channel: channel, createdAt: now, expiresAt: expiresAt, revokedAt: nil)
        if let shared {
            // The bucket first (every node checks tokens there), then the cached row.
            try await publishNewToken(record, hash: tokenHash, shared: shared)
            try await pool.write { db in try Self.cacheToken(db, record, hash: tokenHash) }
            return record
        }
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO channel_token (id, channel, token_sha256, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, NULL)
                """, arguments: [id, channel, tokenHash, now, expiresAt])
        }
        return record
    }

    /// The token with this hash, if the index holds it (revoked or expired ones included).
    /// With a shared index, read from the bucket every time (see `sharedChannelToken`).
    public func channelToken(hash: String) async throws -> ChannelTokenRecord? {
        if let shared { return try await sharedChannelToken(hash: hash, shared: shared) }
        return try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM channel_token WHERE token_sha256 = ?", arguments: [hash]).map(ChannelTokenRecord.init(row:))
        }
    }

    /// Every token, or a channel's, oldest first.
    public func channelTokens(channel: String? = nil) async throws -> [ChannelTokenRecord] {
        if shared != nil { try await refreshTokens() }
        return try await pool.read { db in
            if let channel {
                return try Row.fetchAll(db, sql: "SELECT * FROM channel_token WHERE channel = ? ORDER BY created_at, id", arguments: [channel])
                    .map(ChannelTokenRecord.init(row:))
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM channel_token ORDER BY created_at, id").map(ChannelTokenRecord.init(row:))
        }
    }

    /// Revokes the token with this id or hash; false when there is none (or it was revoked before).
    public func revokeChannelToken(idOrHash: String, now: Double = Date().timeIntervalSince1970) async throws -> Bool {
        if let shared { return try await sharedRevoke(idOrHash: idOrHash, now: now, shared: shared) }
        return try await pool.write { db in
            try db.execute(sql: """
                UPDATE channel_token SET revoked_at = ? WHERE (id = ? OR token_sha256 = ?) AND revoked_at IS NULL
                """, arguments: [now, idOrHash, idOrHash])
            return db.changesCount > 0
        }
    }
}

extension ChannelTokenRecord {
    init(row: Row) {
        self.init(id: row["id"], channel: row["channel"], createdAt: row["created_at"], expiresAt: row["expires_at"], revokedAt: row["revoked_at"])
    }
}
