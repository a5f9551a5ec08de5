import Foundation
import HoardServer
import HoardStore
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Eviction beside the in-memory document cache: the documents hoard serves from memory must
/// survive it, and packages must still be checked against them afterwards.
@Suite struct DocumentEvictionTests {
    /// A hoard serving channel `fixture` from a live fake channel; `body` gets the client, the
    /// store and the fake channel.
    func withChannel<T: Sendable>(
        _ body: @escaping @Sendable (any TestClientProtocol, Store, FakeCondaUpstream) async throws -> T
    ) async throws -> T {
        let upstream = FakeCondaUpstream()
        let base = try OCITestServer(withUsers: false)
        defer { base.remove() }
        return try await upstream.run { url in
            var server = base
            server.settings.channels = [CondaChannel(name: "fixture", upstream: url)]
            // The Evictor runs alone here: without the maintenance service to tell the fast path's
            // table to let go, the package it holds open would count as being served and stay.
            server.settings.fastPath = false
            return try await server.run { client, store in try await body(client, store, upstream) }
        }
    }

    func repodataRow(_ store: Store) async throws -> RepodataRow? {
        try await store.index.repodata(channel: "fixture", label: "", subdir: "noarch", name: "repodata.json")
    }

    /// Whether a GET of the package got a complete 200, whatever its bytes.
    func served200(_ client: any TestClientProtocol, _ filename: String) async -> Bool {
        guard let response = try? await client.send(.get, "/fixture/noarch/\(filename)", auth: nil) else { return false }
        return response.status == .ok
    }

    @Test func theCurrentRepodataSurvivesEvictionAndStillVerifiesPackages() async throws {
        try await withChannel { client, store, upstream in
            #expect(try await client.send(.get, "/fixture/noarch/repodata.json", auth: nil).status == .ok)
            #expect(try await client.send(.get, "/fixture/noarch/fx-lib-1.0-0.conda", auth: nil).status == .ok)
            // HEAD answers once the blob is committed (a GET may return while it still commits).
            #expect(try await client.send(.head, "/fixture/noarch/fx-lib-1.0-0.conda", auth: nil).status == .ok)
            // Served from memory many times: no read of its blob reaches the access times.
            for _ in 0..<3 { _ = try await client.send(.get, "/fixture/noarch/repodata.json", auth: nil) }
            guard let row = try await repodataRow(store) else { throw OCITestError("no repodata row") }

            // What the maintenance service runs with --max-size: here, evict everything it may.
            let report = try await Evictor(store: store, limit: ByteSize(bytes: 0)).run()
            #expect(report.removedBlobs >= 1, "the package must have been evicted")
            #expect(try await store.index.condaFile(CondaFileKey(channel: "fixture", label: "", subdir: "noarch", filename: "fx-lib-1.0-0.conda")) == nil)
            for digest in [row.digest, row.servedDigest, row.zstDigest].compactMap({ $0 }) {
                #expect(try await store.contains(digest), "a blob of the current repodata was evicted")
            }
            #expect(try await repodataRow(store) == row)

            // A mirror now sends wrong bytes: hoard still knows the sha256 and refuses them.
            upstream.corrupt("fx-lib-2.0-1.conda")
            #expect(await !served200(client, "fx-lib-2.0-1.conda"), "corrupt bytes were served as the package")
            #expect(try await store.index.condaFile(CondaFileKey(channel: "fixture", label: "", subdir: "noarch", filename: "fx-lib-2.0-1.conda")) == nil)
        }
    }

    @Test func aLostRepodataBlobIsFetchedAgainBeforeAPackageIsPulled() async throws {
        try await withChannel { client, store, upstream in
            #expect(try await client.send(.get, "/fixture/noarch/repodata.json", auth: nil).status == .ok)
            guard let row = try await repodataRow(store) else { throw OCITestError("no repodata row") }
            // Lost another way than eviction (removed by hand, `verify --repair`): the snapshot
            // in memory names blobs the store no longer has.
            try await store.remove([row.digest, row.servedDigest, row.zstDigest].compactMap { $0 })
            #expect(try await repodataRow(store) == nil)

            upstream.corrupt("fx-lib-2.0-1.conda")
            #expect(await !served200(client, "fx-lib-2.0-1.conda"), "a package was pulled through unverified")
            #expect(try await store.index.condaFile(CondaFileKey(channel: "fixture", label: "", subdir: "noarch", filename: "fx-lib-2.0-1.conda")) == nil)
            // The repodata was fetched again (and is in the store again) to know the sha256.
            #expect(upstream.count("noarch/repodata.json") == 2)
            let again = try await repodataRow(store)
            #expect(again?.digest == row.digest)
            if let again { #expect(try await store.contains(again.digest)) }

        }
    }
}
