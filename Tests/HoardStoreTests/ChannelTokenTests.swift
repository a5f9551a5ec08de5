import Foundation
import Testing
@testable import HoardStore

@Suite struct ChannelTokenTests {
    @Test func tokensAreRandomWellFormedAndStoredHashed() async throws {
        let directory = TemporaryDirectory()
        let index = try StoreIndex(path: directory.path + "/index.db")
        let token = ChannelToken.generate()
        #expect(ChannelToken.isWellFormed(token) && token != ChannelToken.generate())
        #expect(!ChannelToken.isWellFormed("hoard_xyz") && !ChannelToken.isWellFormed(token.uppercased()))
        let record = try await index.addChannelToken(channel: "priv", tokenHash: ChannelToken.hash(token), expiresAt: nil)
        let found = try #require(try await index.channelToken(hash: ChannelToken.hash(token)))
        #expect(found.id == record.id && found.grants("priv") && !found.grants("other"))
        // The index holds no token, only its hash.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: directory.path + "/index.db"))
            + ((try? Data(contentsOf: URL(fileURLWithPath: directory.path + "/index.db-wal"))) ?? Data())
        #expect(bytes.range(of: Data(token.utf8)) == nil)
        #expect(bytes.range(of: Data(ChannelToken.hash(token).utf8)) != nil)
    }

    @Test func revokedAndExpiredTokensGrantNothing() async throws {
        let directory = TemporaryDirectory()
        let index = try StoreIndex(path: directory.path + "/index.db")
        let now = Date().timeIntervalSince1970
        let expiring = ChannelToken.generate()
        _ = try await index.addChannelToken(channel: "priv", tokenHash: ChannelToken.hash(expiring), expiresAt: now + 60)
        let record = try #require(try await index.channelToken(hash: ChannelToken.hash(expiring)))
        #expect(record.grants("priv", now: now) && !record.grants("priv", now: now + 61))
        let revoked = ChannelToken.generate()
        let added = try await index.addChannelToken(channel: "priv", tokenHash: ChannelToken.hash(revoked), expiresAt: nil)
        #expect(try await index.revokeChannelToken(idOrHash: added.id))
        #expect(try await !index.revokeChannelToken(idOrHash: added.id))
        #expect(try await index.channelToken(hash: ChannelToken.hash(revoked))?.grants("priv") == false)
        #expect(try await index.channelTokens(channel: "priv").count == 2)
    }
}
