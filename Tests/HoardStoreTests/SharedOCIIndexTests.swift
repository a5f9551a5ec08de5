import Foundation
import Testing

@testable import HoardStore

/// Two nodes' indexes (separate SQLite files) over one set of shared objects: what one node
/// writes, the other reads at once, and deletes are seen by both.
@Suite struct SharedOCIIndexTests {
    /// Two nodes on one bucket. A node's blob row exists only where the blob was committed
    /// (`commit` on the node that pushes); the other node adopts it from the shared records.
    final class Nodes: Sendable {
        let objects = MemorySharedObjects()
        let a: StoreIndex
        let b: StoreIndex
        private let root: String

        init() throws {
            root = NSTemporaryDirectory() + "hoard-shared-oci-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            let shared = SharedIndex(objects: objects)
            a = try StoreIndex(path: root + "/a.db", shared: shared)
            b = try StoreIndex(path: root + "/b.db", shared: shared)
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        /// A blob committed through `node` (its row there), as `Store.commit` leaves it.
        func commit(_ bytes: [UInt8], on node: StoreIndex) async throws -> BlobDigest {
            let digest = BlobDigest.of(bytes)
            try await node.recordBlob(digest, size: Int64(bytes.count))
            return digest
        }

        func keys(_ prefix: String) async throws -> [String] {
            try await objects.list(prefix: SharedKey(path: prefix)).map(\.key.path)
        }
    }

    static func manifest(_ repository: String, _ digest: BlobDigest, subject: String? = nil, artifactType: String? = nil) -> OCIManifestRecord {
        OCIManifestRecord(
            repository: repository, digest: digest, mediaType: "application/vnd.oci.image.manifest.v1+json",
            artifactType: artifactType, subject: subject)
    }

    @Test func aManifestAndTagPushedOnAAreServedByB() async throws {
        let nodes = try Nodes()
        let digest = try await nodes.commit(randomBytes(300), on: nodes.a)
        let record = Self.manifest("team/app", digest, artifactType: "application/x-test")
        try await nodes.a.ociPutManifest(record, tags: ["v1"])

        #expect(try await nodes.b.blob(digest) == nil)
        #expect(try await nodes.b.ociTag(repository: "team/app", tag: "v1") == digest)
        #expect(try await nodes.b.ociManifest(repository: "team/app", digest: digest) == record)
        // B adopted the blob's row (the foreign keys need it), pinned as pushed content is.
        let adopted = try #require(try await nodes.b.blob(digest))
        #expect(adopted.size == 300 && adopted.pinned)
        #expect(try await nodes.b.ociManifest(repository: "other", digest: digest) == nil)
        #expect(try await nodes.keys("index/oci/team/app/_manifests/") == ["index/oci/team/app/_manifests/\(digest.hex)"])
    }

    @Test func aRetagOnAIsSeenByBAtOnce() async throws {
        let nodes = try Nodes()
        let first = try await nodes.commit(randomBytes(100), on: nodes.a)
        let second = try await nodes.commit(randomBytes(100), on: nodes.a)
        try await nodes.a.ociPutManifest(Self.manifest("r", first), tags: ["latest"])
        #expect(try await nodes.b.ociTag(repository: "r", tag: "latest") == first)
        _ = try await nodes.b.ociManifest(repository: "r", digest: first)

        try await nodes.a.ociPutManifest(Self.manifest("r", second), tags: ["latest"])
        #expect(try await nodes.b.ociTag(repository: "r", tag: "latest") == second)
        #expect(try await nodes.b.ociDeleteTag(repository: "r", tag: "latest"))
        #expect(try await nodes.a.ociTag(repository: "r", tag: "latest") == nil)
        #expect(try await !nodes.a.ociDeleteTag(repository: "r", tag: "latest"))
    }

    @Test func aManifestDeletedOnBIsGoneOnAWithItsTagsAndReferrerLink() async throws {
        let nodes = try Nodes()
        let subject = try await nodes.commit(randomBytes(100), on: nodes.a)
        let digest = try await nodes.commit(randomBytes(100), on: nodes.a)
        try await nodes.a.ociPutManifest(Self.manifest("r", subject), tags: ["keep"])
        try await nodes.a.ociPutManifest(Self.manifest("r", digest, subject: subject.description), tags: ["x", "y"])
        // A has served it (its rows are cached), then B deletes it.
        #expect(try await nodes.a.ociManifest(repository: "r", digest: digest) != nil)
        #expect(try await nodes.b.ociDeleteManifest(repository: "r", digest: digest))

        #expect(try await nodes.a.ociManifest(repository: "r", digest: digest) == nil)
        #expect(try await nodes.a.ociTag(repository: "r", tag: "x") == nil)
        #expect(try await nodes.a.ociTags(repository: "r") == ["keep"])
        #expect(try await nodes.a.ociReferrers(repository: "r", subject: subject.description).isEmpty)
        #expect(try await nodes.keys("index/oci/r/_referrers/").isEmpty)
        #expect(try await nodes.keys("index/oci/r/_tags/") == ["index/oci/r/_tags/keep"])
        // A's cached row went too: the blob is no longer pinned there.
        #expect(try await nodes.a.blob(digest)?.pinned == false)
        #expect(try await !nodes.a.ociDeleteManifest(repository: "r", digest: digest))
    }

    @Test func tagsAndCatalogAreListedFromTheBucket() async throws {
        let nodes = try Nodes()
        let digest = try await nodes.commit(randomBytes(100), on: nodes.a)
        for tag in ["b", "a", "C", "1.0", "a-b"] {
            try await nodes.a.ociPutManifest(Self.manifest("lib/x", digest), tags: [tag])
        }
        let blob = try await nodes.commit(randomBytes(10), on: nodes.a)
        try await nodes.a.ociAddBlob(repository: "empty", digest: blob)

        #expect(try await nodes.b.ociTags(repository: "lib/x") == ["1.0", "C", "a", "a-b", "b"])
        #expect(try await nodes.b.ociTags(repository: "empty") == [])
        #expect(try await nodes.b.ociTags(repository: "lib") == nil)
        #expect(try await nodes.b.ociTags(repository: "nope") == nil)
        #expect(try await nodes.b.ociRepositories() == ["empty", "lib/x"])
    }

    @Test func referrersPushedOnAAreListedOnB() async throws {
        let nodes = try Nodes()
        let subject = try await nodes.commit(randomBytes(100), on: nodes.a)
        try await nodes.a.ociPutManifest(Self.manifest("r", subject), tags: ["v1"])
        var referrers: [OCIManifestRecord] = []
        for index in 0..<3 {
            let digest = try await nodes.commit(randomBytes(50 + index), on: nodes.a)
            let record = Self.manifest("r", digest, subject: subject.description, artifactType: "application/x-\(index)")
            try await nodes.a.ociPutManifest(record, tags: [])
            referrers.append(record)
        }
        let listed = try await nodes.b.ociReferrers(repository: "r", subject: subject.description)
        #expect(listed == referrers.sorted { $0.digest.hex < $1.digest.hex })
        #expect(try await nodes.b.ociReferrers(repository: "other", subject: subject.description).isEmpty)
        #expect(try await nodes.b.ociReferrers(repository: "r", subject: referrers[0].digest.description).isEmpty)
    }

    @Test func blobLinksAndAliasesMadeOnAHoldOnBUntilRemoved() async throws {
        let nodes = try Nodes()
        let digest = try await nodes.commit(randomBytes(1000), on: nodes.a)
        let alias = "sha512:" + String(repeating: "ab", count: 64)
        try await nodes.a.ociAddBlob(repository: "r", digest: digest, alias: alias)

        #expect(try await nodes.b.ociHasBlob(repository: "r", digest: digest))
        #expect(try await !nodes.b.ociHasBlob(repository: "s", digest: digest))
        #expect(try await nodes.b.ociAlias(alias) == digest)
        #expect(try await nodes.b.blob(digest)?.pinned == true)
        #expect(try await nodes.b.ociHasBlobInAnyRepository(digest))

        #expect(try await nodes.a.ociRemoveBlob(repository: "r", digest: digest))
        #expect(try await !nodes.b.ociHasBlob(repository: "r", digest: digest))
        // B's cached link went with it.
        #expect(try await !nodes.b.ociHasBlobInAnyRepository(digest))
        #expect(try await !nodes.b.ociRemoveBlob(repository: "r", digest: digest))
    }

    @Test func aManifestCountsAsABlobOfItsRepositoryOnEveryNode() async throws {
        let nodes = try Nodes()
        let digest = try await nodes.commit(randomBytes(100), on: nodes.a)
        try await nodes.a.ociPutManifest(Self.manifest("r", digest), tags: [])
        #expect(try await nodes.b.ociHasBlob(repository: "r", digest: digest))
        #expect(try await !nodes.b.ociHasBlob(repository: "s", digest: digest))
    }

    @Test func pulledThroughContentAndTagResolutionsAreShared() async throws {
        let nodes = try Nodes()
        let manifest = try await nodes.commit(randomBytes(200), on: nodes.a)
        let layer = try await nodes.commit(randomBytes(2000), on: nodes.a)
        try await nodes.a.ociUpstreamAdd(registry: "hub", repository: "library/x", digest: manifest, mediaType: "application/vnd.oci.image.manifest.v1+json")
        try await nodes.a.ociUpstreamAdd(registry: "hub", repository: "library/x", digest: layer, mediaType: nil)
        try await nodes.a.ociUpstreamSetTag(registry: "hub", repository: "library/x", tag: "1", OCIUpstreamTag(digest: manifest, mediaType: "m", resolvedAt: 100))

        let content = try await nodes.b.ociUpstreamContent(registry: "hub", repository: "library/x", digest: manifest)
        #expect(content.known && content.mediaType == "application/vnd.oci.image.manifest.v1+json")
        let blob = try await nodes.b.ociUpstreamContent(registry: "hub", repository: "library/x", digest: layer)
        #expect(blob.known && blob.mediaType == nil)
        #expect(try await !nodes.b.ociUpstreamContent(registry: "hub", repository: "library/y", digest: layer).known)
        #expect(try await nodes.b.blob(layer)?.size == 2000)
        #expect(try await nodes.b.ociUpstreamTag(registry: "hub", repository: "library/x", tag: "1")?.resolvedAt == 100)

        // A re-resolves the tag: B uses A's resolution (its own cached row is older).
        try await nodes.a.ociUpstreamSetTag(registry: "hub", repository: "library/x", tag: "1", OCIUpstreamTag(digest: layer, mediaType: "m2", resolvedAt: 200))
        #expect(try await nodes.b.ociUpstreamTag(registry: "hub", repository: "library/x", tag: "1") == OCIUpstreamTag(digest: layer, mediaType: "m2", resolvedAt: 200))

        // A names as a plain blob what B recorded as a manifest: the media type stays.
        try await nodes.b.ociUpstreamAdd(registry: "hub", repository: "library/z", digest: manifest, mediaType: "t")
        try await nodes.a.ociUpstreamAdd(registry: "hub", repository: "library/z", digest: manifest, mediaType: nil)
        #expect(try await nodes.a.ociUpstreamContent(registry: "hub", repository: "library/z", digest: manifest).mediaType == "t")
    }

    @Test func aRecordThatDoesNotHoldTogetherIsAnErrorNotAName() async throws {
        let nodes = try Nodes()
        let digest = BlobDigest.of(randomBytes(10))
        let key = SharedIndex.ociManifestKey("r", digest)
        _ = try await nodes.objects.put(key, Array("{\"digest\":\"sha256:nothex\"}".utf8), when: .always)
        await #expect(throws: StoreError.self) { try await nodes.b.ociManifest(repository: "r", digest: digest) }
        let other = BlobDigest.of(randomBytes(10))
        let mismatched = """
            {"digest":"\(other)","mediaType":"m","size":10,"createdAt":1}
            """
        _ = try await nodes.objects.put(key, Array(mismatched.utf8), when: .always)
        await #expect(throws: StoreError.self) { try await nodes.b.ociManifest(repository: "r", digest: digest) }
        let negative = """
            {"digest":"\(digest)","size":-1}
            """
        _ = try await nodes.objects.put(SharedIndex.ociBlobKey("r", digest), Array(negative.utf8), when: .always)
        await #expect(throws: StoreError.self) { try await nodes.b.ociHasBlob(repository: "r", digest: digest) }
    }

    @Test func repositoryComponentsAndNamesAreEncodedInKeys() async throws {
        let nodes = try Nodes()
        let digest = try await nodes.commit(randomBytes(10), on: nodes.a)
        try await nodes.a.ociAddBlob(repository: "a/b.c/d", digest: digest, alias: "sha512:" + String(repeating: "0", count: 128))
        #expect(try await nodes.keys("index/oci/a/b.c/d/_blobs/") == ["index/oci/a/b.c/d/_blobs/\(digest.hex)"])
        #expect(try await nodes.keys("index/oci-catalog/") == ["index/oci-catalog/a%2Fb.c%2Fd"])
        #expect(try await nodes.keys("index/oci-alias/") == ["index/oci-alias/sha512/" + String(repeating: "0", count: 128)])
    }
}

extension SharedOCIIndexTests {
    /// `hoard index rebuild`'s OCI part: a node's rows made to match the bucket.
    @Test func refreshingFromTheBucketFillsAndPrunesTheRows() async throws {
        let nodes = try Nodes()
        let kept = try await nodes.commit(randomBytes(100), on: nodes.a)
        let deleted = try await nodes.commit(randomBytes(100), on: nodes.a)
        let layer = try await nodes.commit(randomBytes(100), on: nodes.a)
        try await nodes.a.ociPutManifest(Self.manifest("x/y", kept), tags: ["v1"])
        try await nodes.a.ociPutManifest(Self.manifest("x/y", deleted), tags: ["old"])
        try await nodes.a.ociAddBlob(repository: "x/y", digest: layer, alias: "sha512:" + String(repeating: "1", count: 128))
        try await nodes.a.ociUpstreamAdd(registry: "hub", repository: "lib/z", digest: layer, mediaType: nil)
        // B has cached the manifest that A then deletes.
        _ = try await nodes.b.ociManifest(repository: "x/y", digest: deleted)
        try await nodes.a.ociDeleteManifest(repository: "x/y", digest: deleted)

        let counts = try await nodes.b.refreshOCINames()
        #expect(counts == OCIRefreshCounts(repositories: 1, manifests: 1, tags: 1, blobLinks: 1, aliases: 1, upstreamNames: 1))
        let rows = try await nodes.b.pool.read { db in
            (try String.fetchAll(db, sql: "SELECT digest FROM oci_manifest"), try String.fetchAll(db, sql: "SELECT tag FROM oci_tag"),
             try String.fetchAll(db, sql: "SELECT digest FROM oci_blob"), try String.fetchAll(db, sql: "SELECT digest FROM oci_upstream_content"))
        }
        #expect(rows.0 == [kept.hex] && rows.1 == ["v1"] && rows.2 == [layer.hex] && rows.3 == [layer.hex])
        #expect(try await nodes.b.blob(deleted)?.pinned == false)
    }
}
