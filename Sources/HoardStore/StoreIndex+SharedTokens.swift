import Foundation
import GRDB

/// Channel tokens in the shared index: one record per token under `index/tokens/<sha256>`. A token
/// is always checked against the bucket (one read per request that carries one), never against
/// the cached row alone: a revocation made on any node takes effect on every node at once.
extension StoreIndex {
    func publishNewToken(_ record: ChannelTokenRecord, hash: String, shared: SharedIndex) async throws {
        let written = try await shared.write(SharedChannelToken(record), at: SharedIndex.tokenKey(hash: hash), when: .ifAbsent)
        // 256 random bits: a second token with the same hash is not going to happen by chance.
        guard written != nil else { throw StoreError.index("a token with hash \(ChannelToken.id(ofHash: hash))… exists already in the shared index") }
    }

    /// The token as the bucket has it, cached.
    func sharedChannelToken(hash: String, shared: SharedIndex) async throws -> ChannelTokenRecord? {
        let key = SharedIndex.tokenKey(hash: hash)
        // Unknown to the bucket: not a token, whatever the cache holds (nothing is written for a
        // guess; `channelTokens` drops stale cached rows).
        guard let record = try await shared.read(SharedChannelToken.self, at: key)?.value else { return nil }
        let token = ChannelTokenRecord(record)
        // Checked on every request that carries a token: the cached row is written only when it changed.
        let cached = try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM channel_token WHERE token_sha256 = ?", arguments: [hash]).map(ChannelTokenRecord.init(row:))
        }
        if cached != token { try await pool.write { db in try Self.cacheToken(db, token, hash: hash) } }
        return token
    }

    /// Revokes a token in the bucket (compare-and-swap, so a concurrent change is not lost), then here.
    func sharedRevoke(idOrHash: String, now: Double, shared: SharedIndex) async throws -> Bool {
        let listed = try await shared.objects.list(prefix: SharedIndex.directory(SharedIndex.Kind.tokens, []))
        let hashes = listed.compactMap { SharedIndex.components(of: $0.key, kind: SharedIndex.Kind.tokens)?.first }
        guard let hash = hashes.first(where: { $0 == idOrHash || ChannelToken.id(ofHash: $0) == idOrHash }) else { return false }
        let key = SharedIndex.tokenKey(hash: hash)
        for _ in 0..<8 {
            guard let (record, version) = try await shared.read(SharedChannelToken.self, at: key) else { return false }
            guard record.revokedAt == nil else { return false }
            var revoked = record
            revoked.revokedAt = now
            if try await shared.write(revoked, at: key, when: .ifMatch(version)) != nil {
                try await pool.write { [revoked] db in try Self.cacheToken(db, ChannelTokenRecord(revoked), hash: hash) }
                return true
            }
        }
        throw StoreError.unavailable(backend: "shared index", reason: "\(key) kept changing through eight compare-and-swap attempts")
    }

    /// Replaces the cached tokens with every token the bucket holds (they are few); returns how many.
    @discardableResult
    func refreshTokens() async throws -> Int {
        guard let shared else { return 0 }
        let listed = try await shared.objects.list(prefix: SharedIndex.directory(SharedIndex.Kind.tokens, []))
        var tokens: [(hash: String, record: ChannelTokenRecord)] = []
        for (key, record) in try await shared.readAll(SharedChannelToken.self, at: listed.map(\.key)) {
            guard let hash = SharedIndex.components(of: key, kind: SharedIndex.Kind.tokens)?.first else { continue }
            tokens.append((hash, ChannelTokenRecord(record)))
        }
        try await pool.write { [tokens] db in
            try db.execute(sql: "DELETE FROM channel_token")
            for token in tokens { try Self.cacheToken(db, token.record, hash: token.hash) }
        }
        return tokens.count
    }

    static func cacheToken(_ db: Database, _ token: ChannelTokenRecord, hash: String) throws {
        // OR REPLACE: both the id and the hash are unique; the bucket's record replaces any row with either.
        try db.execute(sql: """
            INSERT OR REPLACE INTO channel_token (id, channel, token_sha256, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [token.id, token.channel, hash, token.createdAt, token.expiresAt, token.revokedAt])
    }
}

extension SharedChannelToken {
    init(_ record: ChannelTokenRecord) {
        self.init(id: record.id, channel: record.channel, createdAt: record.createdAt, expiresAt: record.expiresAt, revokedAt: record.revokedAt)
    }
}

extension ChannelTokenRecord {
    init(_ record: SharedChannelToken) {
        self.init(id: record.id, channel: record.channel, createdAt: record.createdAt, expiresAt: record.expiresAt, revokedAt: record.revokedAt)
    }
}
