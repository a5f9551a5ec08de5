import Foundation
import HoardOCI
import HoardStore
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import HoardServer

/// The fast path (FastPath/) must answer exactly as Hummingbird does: the same requests, sent
/// raw to a hoard with it and to one without it, get the same status, headers (but Date) and body.
@Suite struct FastPathTests {
    /// What one mode saw: every response in order, and how many the fast path answered.
    struct Run: Sendable {
        var responses: [(String, RawResponse)] = []
        var fastHits = 0
        var tableEntries = 0
    }

    static let package = "/fixture/noarch/fx-lib-1.0-0.conda"
    static let repodata = "/fixture/noarch/repodata.json"
    static let ociBlob = Array(repeating: UInt8(ascii: "b"), count: 300_000) + Array("end".utf8)

    static func get(_ path: String, _ headers: [String] = []) -> (text: String, isHead: Bool) {
        ("GET \(path) HTTP/1.1\r\nHost: hoard\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n", false)
    }

    static func head(_ path: String, _ headers: [String] = []) -> (text: String, isHead: Bool) {
        ("HEAD \(path) HTTP/1.1\r\nHost: hoard\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n", true)
    }

    /// A hoard on a fresh root, fast path on or off, serving the fake channel and pushed OCI blobs.
    func run(fastPath: Bool) async throws -> Run {
        let upstream = FakeCondaUpstream()
        var made = try OCITestServer(withUsers: true)
        made.settings.fastPath = fastPath
        let base = made
        defer { base.remove() }
        return try await upstream.run { url in
            var server = base
            server.settings.channels = [CondaChannel(name: "fixture", upstream: url)]
            let store = try await Store.open(root: server.root + "/store")
            let hoard = HoardServer(settings: server.settings, store: store, logger: Logger(label: "test"))
            return try await hoard.withServices { application in
                try await application.makeApplication().test(.live) { client in
                    try await Self.exercise(client: client, store: store, hot: application.hot, upstream: upstream)
                }
            }
        }
    }

    static func exercise(client: any TestClientProtocol, store: Store, hot: HotTable?, upstream: FakeCondaUpstream) async throws -> Run {
        var run = Run()
        let digest = try await client.pushBlob("team/app", ociBlob)
        let blobPath = "/v2/team/app/blobs/\(digest)"
        // Warm up: the first GET pulls through, the next are answered from the store (and
        // publish to the fast path's table).
        for path in [repodata, package, repodata, package, blobPath] {
            let response = try await client.send(.get, path, auth: nil)
            #expect(response.status == .ok, "\(path)")
        }
        _ = try await client.send(.head, package, auth: nil)
        let connection = try RawHTTPConnection(port: client.port!)
        func ask(_ name: String, _ request: (text: String, isHead: Bool)) async throws -> RawResponse {
            let response = try await connection.exchange([request])[0]
            run.responses.append((name, response))
            return response
        }
        let repodataETag = try await ask("repodata GET", get(repodata)).header("etag") ?? ""
        _ = try await ask("repodata HEAD", head(repodata))
        _ = try await ask("repodata 304", get(repodata, ["If-None-Match: \(repodataETag)"]))
        _ = try await ask("repodata 304 by date", get(repodata, ["If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT"]))
        _ = try await ask("repodata range", get(repodata, ["Range: bytes=0-9"]))
        _ = try await ask("repodata suffix range", get(repodata, ["Range: bytes=-7"]))
        _ = try await ask("repodata 416", get(repodata, ["Range: bytes=999999-"]))
        _ = try await ask("repodata If-Range stale", get(repodata, ["Range: bytes=0-9", "If-Range: \"old\""]))
        _ = try await ask("repodata If-Range holds", get(repodata, ["Range: bytes=2-5", "If-Range: \(repodataETag)"]))
        let packageETag = try await ask("package GET", get(package)).header("etag") ?? ""
        _ = try await ask("package HEAD", head(package))
        _ = try await ask("package HEAD range", head(package, ["Range: bytes=1-3"]))
        _ = try await ask("package 304", get(package, ["If-None-Match: \(packageETag)"]))
        _ = try await ask("package range", get(package, ["Range: bytes=3-7"]))
        _ = try await ask("package open range", get(package, ["Range: bytes=5-"]))
        _ = try await ask("package 416", get(package, ["Range: bytes=4096-"]))
        _ = try await ask("package with credentials", get(package, ["Authorization: Basic eDp5"]))
        _ = try await ask("package with query", get(package + "?x=1"))
        _ = try await ask("OCI blob GET", get(blobPath))
        _ = try await ask("OCI blob HEAD", head(blobPath))
        _ = try await ask("OCI blob range", get(blobPath, ["Range: bytes=299990-300001"]))
        _ = try await ask("OCI blob 416", get(blobPath, ["Range: bytes=400000-"]))

        // Pipelined: answers leave in request order, also when one in the middle goes to
        // Hummingbird (416, credentials) and those after it are hits.
        let pipelined = try await connection.exchange([
            get(package), get(repodata, ["Range: bytes=999999-"]), get(repodata), head(package),
            get(package, ["Authorization: Basic eDp5"]), get(blobPath, ["Range: bytes=0-2"]), get(repodata, ["Range: bytes=1-2"]),
        ])
        for (i, response) in pipelined.enumerated() { run.responses.append(("pipelined \(i)", response)) }

        // Several answers queued before the client reads any (each a file region or a buffer).
        let burst = try await connection.exchange(Array(repeating: get(package), count: 20) + Array(repeating: get(blobPath), count: 5))
        for (i, response) in burst.enumerated() { run.responses.append(("burst \(i)", response)) }

        run.fastHits = hot?.hits ?? 0
        run.tableEntries = hot?.count ?? 0

        // Reads count for eviction whichever path served them: after the accesses so far are
        // written, GETs one second later must move the package's access time.
        let key = CondaFileKey(channel: "fixture", label: "", subdir: "noarch", filename: "fx-lib-1.0-0.conda")
        guard let packageDigest = try await store.index.condaFile(key) else { throw OCITestError("no package row") }
        try await hot?.flushAccesses(to: store)
        try await store.flushAccessTimes()
        let before = try await store.index.blob(packageDigest)?.lastAccess ?? 0
        try await Task.sleep(for: .milliseconds(1100))
        _ = try await connection.exchange([get(package), head(package)])
        try await hot?.flushAccesses(to: store)
        try await store.flushAccessTimes()
        let after = try await store.index.blob(packageDigest)?.lastAccess ?? 0
        #expect(after > before, "a read of the package left its access time at \(before)")

        // Evicted underneath: every evictable blob goes (the current repodata stays); the
        // next GET must not come from the table, but be pulled through again.
        // As the maintenance service runs it: the table lets go of the files eviction chose
        // (an entry holding a blob open counts as serving it).
        let report = try await Evictor(store: store, limit: ByteSize(bytes: 0)) { [hot] in hot?.remove(blobs: Set($0)) }.run()
        #expect(report.removedBlobs >= 1)
        let fetched = upstream.count("noarch/fx-lib-1.0-0.conda")
        _ = try await ask("package after eviction", get(package))
        // Not answered from the evicted file (still readable through an open descriptor): pulled through again.
        #expect(upstream.count("noarch/fx-lib-1.0-0.conda") == fetched + 1)
        _ = try await ask("package HEAD after eviction", head(package))
        _ = try await ask("package after eviction, again", get(package))
        // The OCI blob is pinned (pushed): it stays. Deleting it from the repository unlinks it.
        let deleted = try await client.send(.delete, blobPath)
        #expect(deleted.status == .accepted)
        _ = try await ask("OCI blob after delete", get(blobPath))
        return run
    }

    @Test func theFastPathAnswersAsHummingbirdDoes() async throws {
        let fast = try await run(fastPath: true)
        let slow = try await run(fastPath: false)
        #expect(slow.fastHits == 0)
        #expect(fast.tableEntries >= 3, "repodata, package and OCI blob must be published")
        // Every GET/HEAD hit above except the 416s, credentials, query and the evicted/deleted ones.
        #expect(fast.fastHits >= 40, "the fast path answered only \(fast.fastHits) requests")
        #expect(fast.responses.count == slow.responses.count)
        for ((name, a), (_, b)) in zip(fast.responses, slow.responses) {
            #expect(a == b, "\(name): fast path \(a) vs Hummingbird \(b)")
        }
        // Spot checks that the answers are the right ones, not merely the same.
        let byName = Dictionary(fast.responses.map { ($0.0, $0.1) }) { a, _ in a }
        #expect(byName["repodata 304"]?.status == 304)
        #expect(byName["repodata range"]?.status == 206)
        #expect(byName["repodata 416"]?.status == 416)
        #expect(byName["package GET"]?.body == Array("fx-lib 1.0 conda archive".utf8))
        #expect(byName["package range"]?.body == Array("lib 1".utf8))
        #expect(byName["package HEAD"]?.header("content-length") == "24")
        #expect(byName["OCI blob range"]?.body == Array("bbbbbbbbbben".utf8))
        #expect(byName["package after eviction"]?.body == Array("fx-lib 1.0 conda archive".utf8))
        #expect(byName["OCI blob after delete"]?.status == 404)
        let pipelined = (0..<7).compactMap { byName["pipelined \($0)"] }
        #expect(pipelined.map(\.status) == [200, 416, 200, 200, 200, 206, 206])
    }

    /// With a store shared by several nodes the fast path answers blobs too, but asks the shared
    /// store again before every answer (another node may unlink or delete one): pipelined
    /// requests wait behind the check in order, and a blob another node unlinked is a 404 at once.
    @Test func aSharedStoreChecksEveryBlobAnswer() async throws {
        let upstream = FakeCondaUpstream()
        var made = try OCITestServer(withUsers: true)
        made.settings.fastPath = true
        let base = made
        defer { base.remove() }
        try await upstream.run { url in
            var server = base
            server.settings.channels = [CondaChannel(name: "fixture", upstream: url)]
            let objects = MemorySharedObjects()
            let store = try await Store.open(root: server.root + "/store", shared: objects)
            // Another node on the same shared state (its own root).
            let other = try await Store.open(root: server.root + "/other", shared: objects)
            let hoard = HoardServer(settings: server.settings, store: store, logger: Logger(label: "test"))
            try await hoard.withServices { application in
                let hot = try #require(application.hot)
                #expect(hot.rechecksBlobs)
                try await application.makeApplication().test(.live) { client in
                    let digest = try await client.pushBlob("team/app", Self.ociBlob)
                    let blobPath = "/v2/team/app/blobs/\(digest)"
                    for path in [Self.package, Self.package, blobPath] {
                        #expect(try await client.send(.get, path, auth: nil).status == .ok, "\(path)")
                    }
                    let connection = try RawHTTPConnection(port: client.port!)
                    let before = hot.hits
                    let answers = try await connection.exchange([
                        Self.get(blobPath), Self.get(blobPath, ["Range: bytes=299990-300001"]), Self.head(blobPath),
                        Self.get(blobPath + "?x=1"), Self.get(Self.package), Self.get(blobPath, ["Range: bytes=0-2"]),
                    ])
                    #expect(answers.map(\.status) == [200, 206, 200, 200, 200, 206])
                    #expect(answers[0].body == Self.ociBlob)
                    #expect(answers[1].body == Array("bbbbbbbbbben".utf8))
                    #expect(answers[2].header("content-length") == "\(Self.ociBlob.count)")
                    #expect(answers[3].body == Self.ociBlob)
                    #expect(answers[4].body == Array("fx-lib 1.0 conda archive".utf8))
                    #expect(answers[5].body == Array("bbb".utf8))
                    // The three before the query, each held behind the check of the one before;
                    // the query and all after it go to Hummingbird (answers leave in order).
                    #expect(hot.hits - before == 3, "the fast path answered \(hot.hits - before) of 3")

                    // The other node unlinks the blob: this node's table still has it, but the
                    // check says no, and the slow path answers (in order, after the hit before it).
                    let blob = try BlobDigest(parsing: String(digest.dropFirst("sha256:".count)))
                    #expect(try await other.index.ociRemoveBlob(repository: "team/app", digest: blob))
                    let hits = hot.hits
                    let after = try await connection.exchange([Self.get(Self.package), Self.get(blobPath), Self.head(blobPath), Self.get(Self.package)])
                    #expect(after.map(\.status) == [200, 404, 404, 200])
                    #expect(after[0].body == Array("fx-lib 1.0 conda archive".utf8))
                    #expect(after[3].body == Array("fx-lib 1.0 conda archive".utf8))
                    #expect(hot.hits - hits == 1)
                }
            }
        }
    }
}
