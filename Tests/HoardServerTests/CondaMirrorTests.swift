import Foundation
import HoardOCI
import HoardServer
import HoardStore
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The conda channels as OCI mirrors (`/v2/conda/<channel>/<subdir>/...`), over a live socket,
/// pulling through from a live fake channel.
@Suite struct CondaMirrorTests {
    static let digestHeader = HTTPFields.Element.Name("Docker-Content-Digest")!

    struct ManifestBody: Decodable {
        struct Layer: Decodable {
            let mediaType: String
            let digest: String
            let size: Int
            let annotations: [String: String]
        }
        let schemaVersion: Int
        let layers: [Layer]
    }

    /// A hoard without users (anonymous pulls, no token needed) serving channel `fixture`.
    @discardableResult
    func withMirror<T: Sendable>(
        root: String? = nil, _ body: @escaping @Sendable (any TestClientProtocol, FakeCondaUpstream) async throws -> T
    ) async throws -> T {
        let upstream = FakeCondaUpstream()
        let base = try OCITestServer(withUsers: false, root: root)
        defer { if root == nil { base.remove() } }
        return try await upstream.run { url in
            var server = base
            server.settings.channels = [CondaChannel(name: "fixture", upstream: url)]
            return try await server.run { client, _ in try await body(client, upstream) }
        }
    }

    func manifest(_ response: TestResponse) throws -> ManifestBody {
        try JSONDecoder().decode(ManifestBody.self, from: Data(buffer: response.body))
    }

    @Test func anonymousProbeAnswers200WithoutUsers() async throws {
        try await withMirror { client, _ in
            let probe = try await client.send(.get, "/v2/", auth: nil)
            #expect(probe.status == .ok)
            #expect(probe.headers[.wwwAuthenticate] == nil)
            let token = try await client.send(.get, "/token?scope=repository:conda/fixture/noarch/nothing-here:pull", auth: nil)
            #expect(token.status == .ok)
        }
    }

    @Test func repodataManifestIsStableAndItsLayersAreTheServedDocuments() async throws {
        try await withMirror { client, upstream in
            let path = "/v2/conda/fixture/noarch/repodata.json/manifests/latest"
            let first = try await client.send(.get, path, headers: [.accept: OCIMediaType.imageManifest], auth: nil)
            #expect(first.status == .ok)
            #expect(first.headers[.contentType] == OCIMediaType.imageManifest)
            let second = try await client.send(.get, path, auth: nil)
            #expect(Array(buffer: first.body) == Array(buffer: second.body))
            let digest = OCIDigest.compute(.sha256, of: Array(buffer: first.body)).description
            #expect(first.headers[Self.digestHeader] == digest)

            let body = try manifest(first)
            #expect(body.layers.map(\.mediaType) == [CondaOCINaming.MediaType.repodataJSON, CondaOCINaming.MediaType.repodataJSONZst])
            #expect(body.layers.map { $0.annotations["creationTime"] } == ["2023.11.14.22.13", "2023.11.14.22.13"])
            // Layer 0 is exactly what the conda front serves as repodata.json.
            let served = try await client.send(.get, "/fixture/noarch/repodata.json", auth: nil)
            #expect(body.layers[0].digest == OCIDigest.compute(.sha256, of: Array(buffer: served.body)).description)
            // Both layers resolve by digest, from the repodata repository and from a package's.
            for layer in body.layers {
                for repository in ["conda/fixture/noarch/repodata.json", "conda/fixture/noarch/fx-lib"] {
                    let blob = try await client.send(.get, "/v2/\(repository)/blobs/\(layer.digest)", auth: nil)
                    #expect(blob.status == .ok)
                    #expect(OCIDigest.compute(.sha256, of: Array(buffer: blob.body)).description == layer.digest)
                    #expect(blob.body.readableBytes == layer.size)
                }
            }
            // By digest, by the dated tag, and under mamba's `repodata.json.zst` repository.
            for other in [
                "/v2/conda/fixture/noarch/repodata.json/manifests/\(digest)",
                "/v2/conda/fixture/noarch/repodata.json/manifests/2023.11.14.22.13",
                "/v2/conda/fixture/noarch/repodata.json.zst/manifests/latest",
            ] {
                let again = try await client.send(.get, other, auth: nil)
                #expect(again.status == .ok, "\(other)")
                #expect(Array(buffer: again.body) == Array(buffer: first.body), "\(other)")
            }
            #expect(upstream.count("noarch/repodata.json") == 1)
        }
    }

    @Test func packageManifestLayersAreTheRecordsAndTheInfoLayers() async throws {
        try await withMirror { client, upstream in
            let response = try await client.send(.get, "/v2/conda/fixture/noarch/fx-real/manifests/1.0-0", auth: nil)
            #expect(response.status == .ok)
            let body = try manifest(response)
            let conda = upstream.package("fx-real-1.0-0.conda")
            let tarBz2 = upstream.package("fx-real-1.0-0.tar.bz2")
            #expect(body.layers.map(\.mediaType) == [
                CondaOCINaming.MediaType.packageConda, CondaOCINaming.MediaType.packageTarBz2,
                CondaOCINaming.MediaType.infoTarGz, CondaOCINaming.MediaType.infoIndexJSON,
            ])
            #expect(Array(body.layers.map(\.digest).prefix(2)) == ["sha256:" + conda.sha256, "sha256:" + tarBz2.sha256])
            #expect(Array(body.layers.map(\.size).prefix(2)) == [conda.bytes.count, tarBz2.bytes.count])
            #expect(body.layers[0].annotations == [
                "org.conda.md5": FakeCondaUpstream.md5, "creationTime": "2023.11.14.22.13",
                "org.opencontainers.image.title": "fx-real-1.0-0.conda",
            ])
            #expect(body.layers.map { $0.annotations["org.opencontainers.image.title"] ?? "" }.suffix(2) == [
                "fx-real-1.0-0/info.tar.gz", "fx-real-1.0-0/info/index.json",
            ])
            // The info layers were made from the archive, pulled through once for it.
            #expect(upstream.count("noarch/fx-real-1.0-0.conda") == 1)
            let index = try await client.send(.get, "/v2/conda/fixture/noarch/fx-real/blobs/\(body.layers[3].digest)", auth: nil)
            #expect(index.status == .ok && String(buffer: index.body).contains(#""name": "fx-real""#))
            let tarGz = try await client.send(.get, "/v2/conda/fixture/noarch/fx-real/blobs/\(body.layers[2].digest)", auth: nil)
            #expect(tarGz.status == .ok && tarGz.body.readableBytes == body.layers[2].size)
            #expect(OCIDigest.compute(.sha256, of: Array(buffer: tarGz.body)).description == body.layers[2].digest)

            let digest = try #require(response.headers[Self.digestHeader])
            let head = try await client.send(.head, "/v2/conda/fixture/noarch/fx-real/manifests/1.0-0", auth: nil)
            #expect(head.status == .ok && head.headers[Self.digestHeader] == digest && head.body.readableBytes == 0)
            #expect(head.headers[.contentLength] == String(response.body.readableBytes))
            let byDigest = try await client.send(.get, "/v2/conda/fixture/noarch/fx-real/manifests/\(digest)", auth: nil)
            #expect(Array(buffer: byDigest.body) == Array(buffer: response.body))

            // `_real` lives at `zzz_real`.
            let hidden = try await client.send(.get, "/v2/conda/fixture/noarch/zzz_real/manifests/1.0-0", auth: nil)
            #expect(try manifest(hidden).layers.first?.digest == "sha256:" + upstream.package("_real-1.0-0.conda").sha256)
        }
    }

    @Test func aPackageThatIsNoCondaArchiveIsAGatewayErrorNotAManifestWithoutInfo() async throws {
        try await withMirror { client, _ in
            let response = try await client.send(.get, "/v2/conda/fixture/noarch/fx-lib/manifests/1.0-0", auth: nil)
            #expect(response.status == .badGateway)
            #expect(String(buffer: response.body).contains("not a conda package") || String(buffer: response.body).contains("info/"))
        }
    }

    @Test func blobsByDigestFromAnyRepositoryArePulledThroughOnce() async throws {
        try await withMirror { client, upstream in
            let package = upstream.package("fx-lib-2.0-1.conda")
            for repository in ["conda/fixture/noarch/fx-lib", "conda/fixture/noarch/something-else", "conda/fixture/noarch/repodata.json"] {
                let blob = try await client.sendNamingFailures(.get, "/v2/\(repository)/blobs/sha256:\(package.sha256)", auth: nil)
                #expect(blob.status == .ok, "\(repository)")
                #expect(Array(buffer: blob.body) == package.bytes)
                #expect(blob.headers[Self.digestHeader] == "sha256:" + package.sha256)
            }
            let head = try await client.sendNamingFailures(.head, "/v2/conda/fixture/noarch/fx-lib/blobs/sha256:\(package.sha256)", auth: nil)
            #expect(head.status == .ok && head.headers[.contentLength] == String(package.bytes.count))
            // The conda front serves the same stored file without asking upstream again.
            let viaConda = try await client.sendNamingFailures(.get, "/fixture/noarch/fx-lib-2.0-1.conda", auth: nil)
            #expect(Array(buffer: viaConda.body) == package.bytes)
            #expect(upstream.count("noarch/fx-lib-2.0-1.conda") == 1)

            let unknown = try await client.sendNamingFailures(.get, "/v2/conda/fixture/noarch/fx-lib/blobs/sha256:\(String(repeating: "a", count: 64))", auth: nil)
            #expect(unknown.status == .notFound && errorCode(unknown) == "BLOB_UNKNOWN")
        }
    }

    @Test func unknownThingsAre404AndTagsAreListed() async throws {
        try await withMirror { client, _ in
            for path in [
                "/v2/conda/fixture/noarch/fx-lib/manifests/9.9-0", "/v2/conda/fixture/noarch/no-such-package/manifests/1.0-0",
                "/v2/conda/fixture/linux-64/repodata_shards.msgpack.zst/manifests/latest",
                "/v2/conda/fixture/noarch/repodata.json/manifests/yesterday",
            ] {
                let response = try await client.send(.get, path, auth: nil)
                #expect(response.status == .notFound, "\(path)")
                #expect(errorCode(response) == "MANIFEST_UNKNOWN", "\(path)")
            }
            let tags = try await client.send(.get, "/v2/conda/fixture/noarch/fx-lib/tags/list", auth: nil)
            #expect(tags.status == .ok)
            #expect(String(buffer: tags.body) == #"{"name":"conda/fixture/noarch/fx-lib","tags":["1.0-0","2.0-1"]}"#)
            let page = try await client.send(.get, "/v2/conda/fixture/noarch/fx-lib/tags/list?n=1", auth: nil)
            #expect(page.headers[.link] == #"</v2/conda/fixture/noarch/fx-lib/tags/list?n=1&last=1.0-0>; rel="next""#)
            for path in ["/v2/conda/fixture/noarch/no-such-package/tags/list", "/v2/conda/elsewhere/noarch/fx-lib/tags/list"] {
                let response = try await client.send(.get, path, auth: nil)
                #expect(response.status == .notFound && errorCode(response) == "NAME_UNKNOWN", "\(path)")
            }
        }
    }

    @Test func theNamespaceIsReadOnlyAndOtherRepositoriesStillWork() async throws {
        let upstream = FakeCondaUpstream()
        let base = try OCITestServer(withUsers: true)
        defer { base.remove() }
        try await upstream.run { url in
            var server = base
            server.settings.channels = [CondaChannel(name: "fixture", upstream: url)]
            try await server.run { client, _ in
                let push = try await client.send(.post, "/v2/conda/fixture/noarch/fx-lib/blobs/uploads/")
                #expect(push.status == .forbidden && errorCode(push) == "DENIED")
                let delete = try await client.send(.delete, "/v2/conda/fixture/noarch/fx-lib/manifests/1.0-0")
                #expect(delete.status == .forbidden)
                let digest = try await client.pushBlob("team/files", Array("hello".utf8))
                let blob = try await client.send(.get, "/v2/team/files/blobs/\(digest)", auth: nil)
                #expect(String(buffer: blob.body) == "hello")
            }
        }
    }

    @Test func manifestDigestsSurviveARestart() async throws {
        let root = NSTemporaryDirectory() + "hoard-mirror-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let paths = ["/v2/conda/fixture/noarch/repodata.json/manifests/latest", "/v2/conda/fixture/noarch/fx-real/manifests/1.0-0"]
        var runs: [[String]] = []
        for _ in 0..<2 {
            runs.append(try await withMirror(root: root) { client, _ in
                var digests: [String] = []
                for path in paths {
                    let response = try await client.send(.get, path, auth: nil)
                    digests.append(response.headers[Self.digestHeader] ?? "none")
                }
                return digests
            })
        }
        #expect(runs.count == 2 && runs[0] == runs[1] && !runs[0].contains("none"))
        // A fresh process knows the package manifest by digest alone (its info layers are on
        // record in the index), before anyone asks for the tag.
        let digest = runs[0][1]
        let status = try await withMirror(root: root) { client, _ in
            try await client.send(.get, "/v2/conda/fixture/noarch/fx-real/manifests/\(digest)", auth: nil).status
        }
        #expect(status == .ok)
    }
}

extension TestClientProtocol {
    /// `send`, with the request named in a transport failure (which otherwise says only
    /// "stream ended at an unexpected time").
    func sendNamingFailures(_ method: HTTPRequest.Method, _ uri: String, auth: String?) async throws -> TestResponse {
        do {
            return try await send(method, uri, auth: auth)
        } catch {
            throw OCITestError("\(method) \(uri) failed: \(error)")
        }
    }
}
