import Foundation
import HoardServer
import HoardStore
import Logging
import Testing

/// The document cache of two nodes over one bucket: a refresh one node made is used by the other
/// within its TTL instead of a request of its own to upstream.
@Suite struct SharedDocumentCacheTests {
    static let record = SharedIndex.key("repodata", ["fixture", "", "noarch", "repodata.json"])

    /// `repodata.json` of `fixture/noarch` as `store`'s node serves it (revalidated first when
    /// the copy it holds is not fresh, as `hoard mirror` asks for it).
    func repodata(_ store: Store, settings: ServerSettings) async throws -> [UInt8] {
        try await HoardServer(settings: settings, store: store, logger: Logger(label: "test")).withServices { application in
            var buffer = try await application.channelFiller().repodata(channel: "fixture", subdir: "noarch")
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        }
    }

    /// The bucket's record of the document with its `validatedAt` moved `seconds` back.
    func aged(_ object: SharedObject, by seconds: Double) throws -> [UInt8] {
        var json = try #require(try JSONSerialization.jsonObject(with: Data(object.bytes)) as? [String: Any])
        var snapshot = try #require(json["snapshot"] as? [String: Any])
        snapshot["validatedAt"] = try #require(snapshot["validatedAt"] as? Double) - seconds
        json["snapshot"] = snapshot
        return Array(try JSONSerialization.data(withJSONObject: json))
    }

    @Test func aRefreshByOneNodeIsUsedByAnotherWithinItsTTL() async throws {
        let upstream = FakeCondaUpstream()
        let blobs = MemoryBlobStore()
        let objects = MemorySharedObjects()
        let base = NSTemporaryDirectory() + "hoard-shared-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: base) }
        try await upstream.run { url in
            var settings = ServerSettings(port: 0)
            settings.channels = [CondaChannel(name: "fixture", upstream: url)]
            let a = try await Store.open(root: base + "/a", blobs: blobs, shared: objects)
            let b = try await Store.open(root: base + "/b", blobs: blobs, shared: objects)
            let fromA = try await repodata(a, settings: settings)
            #expect(upstream.count("noarch/repodata.json") == 1)

            // B cached this document an hour ago (past its TTL of ten minutes); A refreshed it since.
            let refreshed = try #require(try await objects.get(Self.record))
            _ = try await objects.put(Self.record, try aged(refreshed, by: 3600), when: .always)
            let old = try #require(try await b.index.repodata(channel: "fixture", label: "", subdir: "noarch", name: "repodata.json"))
            _ = try await objects.put(Self.record, refreshed.bytes, when: .always)

            #expect(try await repodata(b, settings: settings) == fromA)
            #expect(upstream.count("noarch/repodata.json") == 1, "B went upstream although A's refresh was fresh")
            let now = try #require(try await b.index.repodata(channel: "fixture", label: "", subdir: "noarch", name: "repodata.json"))
            #expect(abs(now.validatedAt - (old.validatedAt + 3600)) < 0.001, "B's row must be A's refresh")

            // When the bucket's copy is past its TTL too, a node does go upstream.
            _ = try await objects.put(Self.record, try aged(refreshed, by: 3600), when: .always)
            let c = try await Store.open(root: base + "/c", blobs: blobs, shared: objects)
            #expect(try await repodata(c, settings: settings) == fromA)
            #expect(upstream.count("noarch/repodata.json") == 2)
            let record = try #require(try await c.index.sharedDocument(channel: "fixture", label: "", subdir: "noarch", name: "repodata.json"))
            guard case .snapshot(let row) = record else { throw OCITestError("no snapshot in the bucket") }
            #expect(row.validatedAt > now.validatedAt, "C's refresh must be the bucket's record now")
        }
    }
}
