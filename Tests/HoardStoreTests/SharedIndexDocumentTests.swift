import Foundation
import Testing
@testable import HoardStore

/// Channel documents, tokens and the rebuild of a node's index, across two nodes on one bucket.
@Suite struct SharedIndexDocumentTests {
    /// A snapshot row whose blobs `store` holds, validated at `validatedAt`.
    func snapshot(_ store: Store, validatedAt: Double, etag: String) async throws -> RepodataRow {
        let raw = try await store.ingest(bytes: Array("{\"packages\":{},\"etag\":\"\(etag)\"}".utf8)).digest
        let zst = try await store.ingest(bytes: randomBytes(30)).digest
        return RepodataRow(
            channel: "conda-forge", label: "", subdir: "linux-64", name: "repodata.json", digest: raw, servedDigest: raw, zstDigest: zst,
            upstreamURL: "https://example.invalid/linux-64/repodata.json", upstreamETag: etag, upstreamCacheControl: "max-age=60",
            upstreamBaseURL: "https://example.invalid/linux-64/", fetchedAt: validatedAt, validatedAt: validatedAt)
    }

    func held(_ store: Store) async throws -> RepodataRow? {
        try await store.index.repodata(channel: "conda-forge", label: "", subdir: "linux-64", name: "repodata.json")
    }

    @Test func aSnapshotSavedOnOneNodeIsReadOnTheOther() async throws {
        let nodes = TwoNodes()
        let a = try await nodes.open(nodes.rootA)
        let b = try await nodes.open(nodes.rootB)
        let now = Date().timeIntervalSince1970
        let row = try await snapshot(a, validatedAt: now, etag: "one")
        try await a.index.saveRepodata(row)
        #expect(try await held(b) == row)
        // Its blobs are served on B (rows made from the record, the blobs in the bucket).
        for digest in [row.digest, row.zstDigest].compactMap({ $0 }) { #expect(try await b.existingBlob(digest) != nil) }
        #expect(try await b.index.documentDigests() == Set([row.digest, row.zstDigest].compactMap { $0 }))
        #expect(try await b.index.repodataRows(channel: "conda-forge") == [row])
        #expect(try await b.index.repodataSubdirs().map(\.subdir) == ["linux-64"])
        #expect(try await b.index.repodataSubdirs(channel: "conda-forge", document: "repodata.json").map(\.subdir) == ["linux-64"])

        // B revalidates later (a 304): A reads the new validators from the bucket.
        var validated = row
        validated.validatedAt = now + 10
        validated.upstreamETag = "one-b"
        try await b.index.markRepodataValidated(validated)
        #expect(try await a.index.sharedDocument(channel: "conda-forge", label: "", subdir: "linux-64", name: "repodata.json")
            == .snapshot(validated))
        #expect(try await held(a) == validated, "the shared record must replace A's cached row")
    }

    @Test func anOlderRefreshNeverOverwritesANewerOne() async throws {
        let nodes = TwoNodes()
        let a = try await nodes.open(nodes.rootA)
        let b = try await nodes.open(nodes.rootB)
        let now = Date().timeIntervalSince1970
        // B started a refresh first and finishes last: its snapshot is older than A's.
        let older = try await snapshot(b, validatedAt: now - 100, etag: "old")
        let newer = try await snapshot(a, validatedAt: now, etag: "new")
        try await a.index.saveRepodata(newer)
        try await b.index.saveRepodata(older)
        #expect(try await held(a) == newer)
        #expect(try await b.index.sharedDocument(channel: "conda-forge", label: "", subdir: "linux-64", name: "repodata.json") == .snapshot(newer))
        #expect(try await held(b) == newer, "B caches the bucket's newer record, not its own older one")

        // A late 304 on the older snapshot loses too, and so does a late "not found".
        var revalidated = older
        revalidated.validatedAt = now - 50
        try await b.index.markRepodataValidated(revalidated)
        try await b.index.saveMissingDocument(MissingDocumentRow(
            channel: "conda-forge", label: "", subdir: "linux-64", name: "repodata.json", upstreamURL: "u", status: 404, checkedAt: now - 1))
        #expect(try await a.index.sharedDocument(channel: "conda-forge", label: "", subdir: "linux-64", name: "repodata.json") == .snapshot(newer))
        #expect(try await b.index.missingDocument(channel: "conda-forge", label: "", subdir: "linux-64", name: "repodata.json") == nil)
    }

    @Test func upstreamsNotFoundIsSharedAndASnapshotReplacesIt() async throws {
        let nodes = TwoNodes()
        let a = try await nodes.open(nodes.rootA)
        let b = try await nodes.open(nodes.rootB)
        let now = Date().timeIntervalSince1970
        let missing = MissingDocumentRow(
            channel: "conda-forge", label: "", subdir: "linux-64", name: "repodata.json", upstreamURL: "u", status: 404, checkedAt: now)
        try await a.index.saveMissingDocument(missing)
        #expect(try await held(b) == nil)
        #expect(try await b.index.missingDocument(channel: "conda-forge", label: "", subdir: "linux-64", name: "repodata.json") == missing)

        let row = try await snapshot(b, validatedAt: now + 1, etag: "e")
        try await b.index.saveRepodata(row)
        #expect(try await a.index.sharedDocument(channel: "conda-forge", label: "", subdir: "linux-64", name: "repodata.json") == .snapshot(row))
        #expect(try await a.index.missingDocument(channel: "conda-forge", label: "", subdir: "linux-64", name: "repodata.json") == nil)
    }

    @Test func aTokenCreatedOnOneNodeWorksOnTheOtherUntilRevokedAnywhere() async throws {
        let nodes = TwoNodes()
        let a = try await nodes.open(nodes.rootA)
        let b = try await nodes.open(nodes.rootB)
        let token = ChannelToken.generate()
        let hash = ChannelToken.hash(token)
        let created = try await a.index.addChannelToken(channel: "priv", tokenHash: hash, expiresAt: nil)
        let onB = try #require(try await b.index.channelToken(hash: hash))
        #expect(onB.grants("priv") && onB.id == created.id)
        #expect(try await b.index.channelTokens().map(\.id) == [created.id])

        // Revoked on B (as `hoard token revoke` run there): A refuses it on the next request,
        // though A has the token cached as valid.
        #expect(try await a.index.channelToken(hash: hash)?.grants("priv") == true)
        #expect(try await b.index.revokeChannelToken(idOrHash: created.id))
        #expect(try await a.index.channelToken(hash: hash)?.grants("priv") == false)
        #expect(try await !a.index.revokeChannelToken(idOrHash: created.id), "revoked twice")
        #expect(try await a.index.channelToken(hash: ChannelToken.hash(ChannelToken.generate())) == nil)
    }

    @Test func rebuildRefillsAnEmptyRoot() async throws {
        let nodes = TwoNodes()
        let a = try await nodes.open(nodes.rootA)
        let now = Date().timeIntervalSince1970
        let row = try await snapshot(a, validatedAt: now, etag: "r")
        try await a.index.saveRepodata(row)
        let package = try await a.ingest(bytes: randomBytes(64)).digest
        try await a.index.setCondaFile(SharedIndexCondaTests.key, digest: package)
        let token = try await a.index.addChannelToken(channel: "priv", tokenHash: ChannelToken.hash(ChannelToken.generate()), expiresAt: nil)
        let info = CondaInfoLayersRow(
            archive: package, subdir: "noarch", recipe: 1, infoTarGz: .of(randomBytes(4)), infoTarGzSize: 4, indexJSON: .of(randomBytes(4)),
            indexJSONSize: 4)
        try await a.index.saveCondaInfoLayers(info)
        // A blob nothing names yet (a crash between commit and name) is adopted too.
        let unnamed = try await a.ingest(bytes: randomBytes(5)).digest

        let fresh = try await nodes.open(nodes.rootB)
        let report = try await SharedIndexRebuild(store: fresh).run()
        #expect(report == IndexRebuildReport(blobs: 4, condaFiles: 1, documents: 1, tokens: 1, condaInfoLayers: 1, droppedBlobs: 0))
        // Read from the local SQLite alone (none of these read through).
        #expect(Set(try await fresh.index.allBlobs().map(\.digest)) == Set([row.digest, try #require(row.zstDigest), package, unnamed]))
        #expect(try await fresh.index.allCondaInfoLayers() == [info])
        #expect(try await fresh.index.documentDigests() == Set([row.digest, row.zstDigest].compactMap { $0 }))
        let cached = try await fresh.index.pool.read { db in try String.fetchAll(db, sql: "SELECT id FROM channel_token") }
        #expect(cached == [token.id])

        // Once a blob is gone from the bucket, a rebuild drops it and what names it.
        try await nodes.blobs.delete(package)
        let again = try await SharedIndexRebuild(store: fresh).run()
        #expect(again.droppedBlobs == 1 && again.condaFiles == 0)
    }

    @Test func rebuildNeedsASharedIndex() async throws {
        let root = TemporaryDirectory()
        let store = try await Store.open(root: root.path, blobs: MemoryBlobStore())
        await #expect(throws: StoreError.self) { try await SharedIndexRebuild(store: store).run() }
    }
}
