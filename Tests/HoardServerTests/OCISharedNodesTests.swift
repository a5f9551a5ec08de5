import Foundation
import HoardOCI
import HoardServer
import HoardStore
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// Two hoard nodes (separate roots) over one set of blobs and one set of shared objects, as two
/// nodes over one bucket: whatever is pushed, retagged or deleted through one is what the other
/// serves, at once.
struct OCISharedNodes {
    let a: OCITestServer
    let b: OCITestServer
    let blobs = MemoryBlobStore()
    let objects = MemorySharedObjects()

    init() throws {
        a = try OCITestServer()
        b = try OCITestServer()
    }

    /// Serves both nodes for the duration of `body`, each on its own port.
    func run(_ body: @escaping @Sendable (_ a: any TestClientProtocol, _ b: any TestClientProtocol) async throws -> Void) async throws {
        let storeA = try await Store.open(root: a.root + "/store", blobs: blobs, shared: objects)
        let storeB = try await Store.open(root: b.root + "/store", blobs: blobs, shared: objects)
        let serverA = HoardServer(settings: a.settings, store: storeA, logger: Logger(label: "test.a"))
        let serverB = HoardServer(settings: b.settings, store: storeB, logger: Logger(label: "test.b"))
        try await serverA.withServices { applicationA in
            try await applicationA.makeApplication().test(.live) { clientA in
                try await serverB.withServices { applicationB in
                    try await applicationB.makeApplication().test(.live) { clientB in try await body(clientA, clientB) }
                }
            }
        }
    }

    func remove() {
        a.remove()
        b.remove()
    }
}

@Suite struct OCISharedNodesTests {
    struct TagList: Decodable { let name: String; let tags: [String] }
    struct Catalog: Decodable { let repositories: [String] }
    struct Index: Decodable {
        struct Entry: Decodable { let digest: String; let artifactType: String? }
        let manifests: [Entry]
    }

    static let digestHeader = HTTPFields.Element.Name("Docker-Content-Digest")!

    static func sha256(_ bytes: [UInt8]) -> String { OCIDigest.compute(.sha256, of: bytes).description }

    @Test func aManifestPushedOnAIsPulledFromBByTagAndDigest() async throws {
        let nodes = try OCISharedNodes()
        defer { nodes.remove() }
        try await nodes.run { a, b in
            let layer = randomBytes(5000)
            let config = try await a.pushBlob("team/app", Array("{}".utf8))
            let layerDigest = try await a.pushBlob("team/app", layer)
            let manifest = imageManifest(config: config, layers: [(layerDigest, layer.count)])
            #expect(try await a.pushManifest("team/app", "v1", manifest).status == .created)

            let byTag = try await b.send(.get, "/v2/team/app/manifests/v1", auth: nil)
            #expect(byTag.status == .ok)
            #expect(Array(buffer: byTag.body) == manifest)
            #expect(byTag.headers[.contentType] == OCIMediaType.imageManifest)
            #expect(byTag.headers[Self.digestHeader] == Self.sha256(manifest))
            let byDigest = try await b.send(.get, "/v2/team/app/manifests/\(Self.sha256(manifest))", auth: nil)
            #expect(byDigest.status == .ok && Array(buffer: byDigest.body) == manifest)
            let blob = try await b.send(.get, "/v2/team/app/blobs/\(layerDigest)", auth: nil)
            #expect(blob.status == .ok && Array(buffer: blob.body) == layer)
            #expect(try await b.send(.get, "/v2/other/manifests/v1", auth: nil).status == .notFound)
        }
    }

    @Test func aRetagOnAIsServedByBAtOnce() async throws {
        let nodes = try OCISharedNodes()
        defer { nodes.remove() }
        try await nodes.run { a, b in
            let config = try await a.pushBlob("r", Array("{}".utf8))
            let first = imageManifest(config: config, layers: [], artifactType: "application/x-first")
            let second = imageManifest(config: config, layers: [], artifactType: "application/x-second")
            try await a.pushManifest("r", "latest", first)
            #expect(try await b.send(.get, "/v2/r/manifests/latest", auth: nil).headers[Self.digestHeader] == Self.sha256(first))
            try await a.pushManifest("r", "latest", second)
            let moved = try await b.send(.get, "/v2/r/manifests/latest", auth: nil)
            #expect(moved.headers[Self.digestHeader] == Self.sha256(second) && Array(buffer: moved.body) == second)
        }
    }

    @Test func aManifestOrTagDeletedOnBIsGoneOnA() async throws {
        let nodes = try OCISharedNodes()
        defer { nodes.remove() }
        try await nodes.run { a, b in
            let config = try await a.pushBlob("r", Array("{}".utf8))
            let manifest = imageManifest(config: config, layers: [])
            let other = imageManifest(config: config, layers: [], artifactType: "application/x-other")
            try await a.pushManifest("r", "v1", manifest)
            try await a.pushManifest("r", "keep", other)
            // A serves both (its index caches them) before B deletes.
            #expect(try await a.send(.get, "/v2/r/manifests/\(Self.sha256(manifest))", auth: nil).status == .ok)
            #expect(try await a.send(.get, "/v2/r/manifests/keep", auth: nil).status == .ok)

            #expect(try await b.send(.delete, "/v2/r/manifests/\(Self.sha256(manifest))").status == .accepted)
            #expect(try await a.send(.get, "/v2/r/manifests/\(Self.sha256(manifest))", auth: nil).status == .notFound)
            #expect(try await a.send(.get, "/v2/r/manifests/v1", auth: nil).status == .notFound)
            #expect(try await b.send(.delete, "/v2/r/manifests/keep").status == .accepted)
            #expect(try await a.send(.get, "/v2/r/manifests/keep", auth: nil).status == .notFound)
            // The manifest behind the deleted tag stays.
            #expect(try await a.send(.get, "/v2/r/manifests/\(Self.sha256(other))", auth: nil).status == .ok)
            let tags = try await a.send(.get, "/v2/r/tags/list", auth: nil)
            #expect(try JSONDecoder().decode(TagList.self, from: Data(buffer: tags.body)).tags.isEmpty)
        }
    }

    @Test func tagsAndCatalogOnBListWhatAPushedPageByPage() async throws {
        let nodes = try OCISharedNodes()
        defer { nodes.remove() }
        try await nodes.run { a, b in
            let config = try await a.pushBlob("r", Array("{}".utf8))
            let manifest = imageManifest(config: config, layers: [])
            for tag in ["e", "c", "a", "d", "b"] { #expect(try await a.pushManifest("r", tag, manifest).status == .created) }
            _ = try await a.pushBlob("s/t", Array("{}".utf8))

            var uri = "/v2/r/tags/list?n=2"
            var seen: [String] = []
            while true {
                let page = try await b.send(.get, uri, auth: nil)
                #expect(page.status == .ok)
                seen += try JSONDecoder().decode(TagList.self, from: Data(buffer: page.body)).tags
                guard let link = page.headers[.link] else { break }
                uri = String(link.dropFirst().prefix { $0 != ">" })
            }
            #expect(seen == ["a", "b", "c", "d", "e"])
            #expect(try await b.send(.get, "/v2/unknown/tags/list", auth: nil).status == .notFound)
            let empty = try await b.send(.get, "/v2/s/t/tags/list", auth: nil)
            #expect(empty.status == .ok)
            #expect(try JSONDecoder().decode(TagList.self, from: Data(buffer: empty.body)).tags.isEmpty)

            let catalog = try await b.send(.get, "/v2/_catalog?n=1", auth: nil)
            #expect(try JSONDecoder().decode(Catalog.self, from: Data(buffer: catalog.body)).repositories == ["r"])
            #expect(catalog.headers[.link] == "</v2/_catalog?n=1&last=r>; rel=\"next\"")
            let rest = try await b.send(.get, "/v2/_catalog?n=1&last=r", auth: nil)
            #expect(try JSONDecoder().decode(Catalog.self, from: Data(buffer: rest.body)).repositories == ["s/t"])
            #expect(rest.headers[.link] == nil)
        }
    }

    @Test func referrersPushedOnAAreListedOnB() async throws {
        let nodes = try OCISharedNodes()
        defer { nodes.remove() }
        try await nodes.run { a, b in
            let config = try await a.pushBlob("r", Array("{}".utf8))
            let image = imageManifest(config: config, layers: [])
            try await a.pushManifest("r", "v1", image)
            let subject = Self.sha256(image)
            let sbom = imageManifest(config: config, layers: [], subject: (subject, image.count), artifactType: "application/vnd.example.sbom")
            let sig = imageManifest(config: config, layers: [], subject: (subject, image.count), artifactType: "application/vnd.example.sig")
            try await a.pushManifest("r", Self.sha256(sbom), sbom)
            try await a.pushManifest("r", Self.sha256(sig), sig)

            let all = try await b.send(.get, "/v2/r/referrers/\(subject)", auth: nil)
            #expect(all.status == .ok)
            let index = try JSONDecoder().decode(Index.self, from: Data(buffer: all.body))
            #expect(Set(index.manifests.map(\.digest)) == [Self.sha256(sbom), Self.sha256(sig)])
            #expect(Set(index.manifests.compactMap(\.artifactType)) == ["application/vnd.example.sbom", "application/vnd.example.sig"])

            #expect(try await a.send(.delete, "/v2/r/manifests/\(Self.sha256(sig))").status == .accepted)
            let left = try await b.send(.get, "/v2/r/referrers/\(subject)", auth: nil)
            #expect(try JSONDecoder().decode(Index.self, from: Data(buffer: left.body)).manifests.map(\.digest) == [Self.sha256(sbom)])
        }
    }

    @Test func aBlobLinkedOnAIsInTheRepositoryOnB() async throws {
        let nodes = try OCISharedNodes()
        defer { nodes.remove() }
        try await nodes.run { a, b in
            let bytes = randomBytes(3000)
            let digest = try await a.pushBlob("r", bytes)
            let head = try await b.send(.head, "/v2/r/blobs/\(digest)", auth: nil)
            #expect(head.status == .ok && head.headers[.contentLength] == "3000")
            #expect(try await b.send(.head, "/v2/other/blobs/\(digest)", auth: nil).status == .notFound)
            // Mounted on B from the repository A pushed it to.
            let mount = try await b.send(.post, "/v2/other/blobs/uploads/?mount=\(digest)&from=r")
            #expect(mount.status == .created)
            #expect(try await a.send(.head, "/v2/other/blobs/\(digest)", auth: nil).status == .ok)
            #expect(try await b.send(.delete, "/v2/r/blobs/\(digest)").status == .accepted)
            #expect(try await a.send(.head, "/v2/r/blobs/\(digest)", auth: nil).status == .notFound)
            #expect(try await a.send(.get, "/v2/other/blobs/\(digest)", auth: nil).status == .ok)
        }
    }
}
