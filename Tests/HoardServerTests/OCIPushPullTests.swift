import Foundation
import HoardOCI
import HoardServer
import HoardStore
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite struct OCIPushPullTests {
    @Test func pushAndPullRoundTrip() async throws {
        let server = try OCITestServer()
        defer { server.remove() }
        try await server.run { client, store in
            let ping = try await client.send(.get, "/v2/")
            #expect(ping.status == .ok)
            #expect(ping.headers[HTTPFields.Element.Name("Docker-Distribution-API-Version")!] == "registry/2.0")

            let config = try await client.pushBlob("team/app", Array("{}".utf8))
            let layerBytes = randomBytes(700_000)
            let layer = try await client.pushBlob("team/app", layerBytes)
            let manifest = imageManifest(config: config, layers: [(layer, layerBytes.count)])
            let put = try await client.pushManifest("team/app", "v1", manifest)
            #expect(put.status == .created)
            let manifestDigest = OCIDigest.compute(.sha256, of: manifest).description
            #expect(put.headers[HTTPFields.Element.Name("Docker-Content-Digest")!] == manifestDigest)
            #expect(put.headers[.location] == "/v2/team/app/manifests/\(manifestDigest)")

            // Pulls are anonymous by default.
            for reference in ["v1", manifestDigest] {
                let get = try await client.send(.get, "/v2/team/app/manifests/\(reference)", headers: [.accept: OCIMediaType.imageManifest], auth: nil)
                #expect(get.status == .ok)
                #expect(Array(buffer: get.body) == manifest)
                #expect(get.headers[.contentType] == OCIMediaType.imageManifest)
                #expect(get.headers[HTTPFields.Element.Name("Docker-Content-Digest")!] == manifestDigest)
                let head = try await client.send(.head, "/v2/team/app/manifests/\(reference)", auth: nil)
                #expect(head.status == .ok && head.headers[.contentLength] == String(manifest.count) && head.body.readableBytes == 0)
            }

            let blob = try await client.send(.get, "/v2/team/app/blobs/\(layer)", auth: nil)
            #expect(blob.status == .ok && Array(buffer: blob.body) == layerBytes)
            let head = try await client.send(.head, "/v2/team/app/blobs/\(layer)", auth: nil)
            #expect(head.headers[.contentLength] == String(layerBytes.count) && head.body.readableBytes == 0)
            let range = try await client.send(.get, "/v2/team/app/blobs/\(layer)", headers: [.range: "bytes=1000-1999"], auth: nil)
            #expect(range.status == .partialContent)
            #expect(range.headers[.contentRange] == "bytes 1000-1999/\(layerBytes.count)")
            #expect(Array(buffer: range.body) == Array(layerBytes[1000...1999]))
            let suffix = try await client.send(.get, "/v2/team/app/blobs/\(layer)", headers: [.range: "bytes=-10"], auth: nil)
            #expect(Array(buffer: suffix.body) == Array(layerBytes.suffix(10)))
            let outside = try await client.send(.get, "/v2/team/app/blobs/\(layer)", headers: [.range: "bytes=900000-"], auth: nil)
            #expect(outside.status == .rangeNotSatisfiable)
            #expect(outside.headers[.contentRange] == "bytes */\(layerBytes.count)")
            // An invalid Range is ignored (RFC 9110), as the conda front does: the whole blob.
            for invalid in ["bytes=9-3", "bytes=0-1,5-6", "bytes=x-"] {
                let ignored = try await client.send(.get, "/v2/team/app/blobs/\(layer)", headers: [.range: invalid], auth: nil)
                #expect(ignored.status == .ok && ignored.body.readableBytes == layerBytes.count, "\(invalid)")
            }

            // The empty blob (size 0): whole, it is the empty body; it has no byte a range could
            // start at, so `bytes=0-10` is 416 as for any representation (RFC 9110 §14.1.1).
            let empty = try await client.pushBlob("team/app", [])
            let emptyGet = try await client.send(.get, "/v2/team/app/blobs/\(empty)", auth: nil)
            #expect(emptyGet.status == .ok && emptyGet.body.readableBytes == 0 && emptyGet.headers[.contentLength] == "0")
            let emptyRange = try await client.send(.get, "/v2/team/app/blobs/\(empty)", headers: [.range: "bytes=0-10"], auth: nil)
            #expect(emptyRange.status == .rangeNotSatisfiable && emptyRange.headers[.contentRange] == "bytes */0")

            // Pushed content is pinned: it exists nowhere else.
            let record = try await store.index.blob(try BlobDigest(parsing: layer))
            #expect(record?.pinned == true)

            // Another repository does not see the blob; unknown things are 404, bad digests 400.
            #expect(try await client.send(.get, "/v2/other/blobs/\(layer)", auth: nil).status == .notFound)
            #expect(try await client.send(.get, "/v2/team/app/manifests/nope", auth: nil).status == .notFound)
            let bad = try await client.send(.get, "/v2/team/app/blobs/sha256:xyz", auth: nil)
            #expect(bad.status == .badRequest && errorCode(bad) == "DIGEST_INVALID")

            // Deleting the tag keeps the manifest; deleting by digest removes it.
            #expect(try await client.send(.delete, "/v2/team/app/manifests/v1").status == .accepted)
            #expect(try await client.send(.get, "/v2/team/app/manifests/v1", auth: nil).status == .notFound)
            #expect(try await client.send(.get, "/v2/team/app/manifests/\(manifestDigest)", auth: nil).status == .ok)
            #expect(try await client.send(.delete, "/v2/team/app/manifests/\(manifestDigest)").status == .accepted)
            #expect(try await client.send(.get, "/v2/team/app/manifests/\(manifestDigest)", auth: nil).status == .notFound)
            #expect(try await client.send(.delete, "/v2/team/app/blobs/\(layer)").status == .accepted)
            #expect(try await client.send(.head, "/v2/team/app/blobs/\(layer)", auth: nil).status == .notFound)
            // Nothing names the layer any more: it may be evicted again.
            #expect(try await store.index.blob(try BlobDigest(parsing: layer))?.pinned == false)
        }
    }

    @Test func monolithicPostAndSha512() async throws {
        let server = try OCITestServer()
        defer { server.remove() }
        try await server.run { client, store in
            let bytes = randomBytes(5000)
            let sha512 = OCIDigest.compute(.sha512, of: bytes).description
            let post = try await client.send(.post, "/v2/r/blobs/uploads/?digest=\(sha512)", body: bytes)
            #expect(post.status == .created)
            #expect(post.headers[HTTPFields.Element.Name("Docker-Content-Digest")!] == sha512)
            let get = try await client.send(.get, "/v2/r/blobs/\(sha512)", auth: nil)
            #expect(get.status == .ok && Array(buffer: get.body) == bytes)
            #expect(get.headers[HTTPFields.Element.Name("Docker-Content-Digest")!] == sha512)
            // Stored once, under its sha256.
            #expect(try await store.contains(BlobDigest.of(bytes)))

            // A manifest pushed by its sha512 answers with that digest, by digest and by tag.
            let manifest = imageManifest(config: OCIDigest.compute(.sha256, of: Array("{}".utf8)).description, layers: [])
            let manifest512 = OCIDigest.compute(.sha512, of: manifest).description
            let put = try await client.pushManifest("r", "\(manifest512)?tag=a&tag=b", manifest)
            #expect(put.status == .created)
            #expect(put.headers[HTTPFields.Element.Name("Docker-Content-Digest")!] == manifest512)
            #expect(put.headers[HTTPFields.Element.Name("OCI-Tag")!] == "a, b")
            let byTag = try await client.send(.get, "/v2/r/manifests/b", auth: nil)
            #expect(byTag.headers[HTTPFields.Element.Name("Docker-Content-Digest")!] == manifest512)
        }
    }

    @Test func oversizeManifestIsRefused() async throws {
        let server = try OCITestServer()
        defer { server.remove() }
        try await server.run { client, _ in
            let huge = [UInt8](repeating: 0x20, count: Manifest.maxSize + 1)
            let put = try await client.pushManifest("r", "big", huge)
            #expect(put.status == .contentTooLarge)
            let invalid = try await client.pushManifest("r", "bad", Array("{\"schemaVersion\":2}".utf8))
            #expect(invalid.status == .badRequest && errorCode(invalid) == "MANIFEST_INVALID")
        }
    }
}
