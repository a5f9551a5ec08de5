import Foundation
import HoardOCI
import HoardServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite struct OCIListingTests {
    struct TagList: Decodable { let name: String; let tags: [String] }
    struct Catalog: Decodable { let repositories: [String] }
    struct Index: Decodable {
        struct Entry: Decodable { let digest: String; let artifactType: String? }
        let mediaType: String
        let manifests: [Entry]
    }

    @Test func tagsAndCatalogPaginateWithPathOnlyLinks() async throws {
        let server = try OCITestServer()
        defer { server.remove() }
        try await server.run { client, _ in
            let config = try await client.pushBlob("r", Array("{}".utf8))
            let manifest = imageManifest(config: config, layers: [])
            for tag in ["e", "c", "a", "d", "b"] { #expect(try await client.pushManifest("r", tag, manifest).status == .created) }
            _ = try await client.pushBlob("s/t", Array("{}".utf8))

            var uri = "/v2/r/tags/list?n=2"
            var seen: [String] = []
            while true {
                let page = try await client.send(.get, uri, auth: nil)
                #expect(page.status == .ok)
                let list = try JSONDecoder().decode(TagList.self, from: Data(buffer: page.body))
                seen += list.tags
                guard let link = page.headers[.link] else { break }
                #expect(link.hasPrefix("</v2/r/tags/list?n=2&last=") && link.hasSuffix(">; rel=\"next\""))
                uri = String(link.dropFirst().prefix { $0 != ">" })
            }
            #expect(seen == ["a", "b", "c", "d", "e"])
            let none = try await client.send(.get, "/v2/r/tags/list?n=0", auth: nil)
            #expect(try JSONDecoder().decode(TagList.self, from: Data(buffer: none.body)).tags.isEmpty && none.headers[.link] == nil)
            #expect(try await client.send(.get, "/v2/unknown/tags/list", auth: nil).status == .notFound)

            let catalog = try await client.send(.get, "/v2/_catalog?n=1", auth: nil)
            #expect(try JSONDecoder().decode(Catalog.self, from: Data(buffer: catalog.body)).repositories == ["r"])
            #expect(catalog.headers[.link] == "</v2/_catalog?n=1&last=r>; rel=\"next\"")
            let rest = try await client.send(.get, "/v2/_catalog?n=1&last=r", auth: nil)
            #expect(try JSONDecoder().decode(Catalog.self, from: Data(buffer: rest.body)).repositories == ["s/t"])
        }
    }

    @Test func manifestsWithASubjectAreReferrers() async throws {
        let server = try OCITestServer()
        defer { server.remove() }
        try await server.run { client, _ in
            let config = try await client.pushBlob("r", Array("{}".utf8))
            let image = imageManifest(config: config, layers: [])
            try await client.pushManifest("r", "v1", image)
            let imageDigest = OCIDigest.compute(.sha256, of: image).description

            // Nothing refers to it yet: an empty index, never a 404.
            let empty = try await client.send(.get, "/v2/r/referrers/\(imageDigest)", auth: nil)
            #expect(empty.status == .ok && empty.headers[.contentType] == OCIMediaType.imageIndex)
            #expect(try JSONDecoder().decode(Index.self, from: Data(buffer: empty.body)).manifests.isEmpty)

            let sbom = imageManifest(config: config, layers: [], subject: (imageDigest, image.count), artifactType: "application/vnd.example.sbom")
            let put = try await client.pushManifest("r", OCIDigest.compute(.sha256, of: sbom).description, sbom)
            #expect(put.status == .created)
            #expect(put.headers[HTTPFields.Element.Name("OCI-Subject")!] == imageDigest)
            let sig = imageManifest(config: config, layers: [], subject: (imageDigest, image.count), artifactType: "application/vnd.example.sig")
            try await client.pushManifest("r", OCIDigest.compute(.sha256, of: sig).description, sig)

            let all = try await client.send(.get, "/v2/r/referrers/\(imageDigest)", auth: nil)
            let index = try JSONDecoder().decode(Index.self, from: Data(buffer: all.body))
            #expect(Set(index.manifests.compactMap(\.artifactType)) == ["application/vnd.example.sbom", "application/vnd.example.sig"])
            #expect(all.headers[HTTPFields.Element.Name("OCI-Filters-Applied")!] == nil)

            let filtered = try await client.send(.get, "/v2/r/referrers/\(imageDigest)?artifactType=application/vnd.example.sbom", auth: nil)
            let only = try JSONDecoder().decode(Index.self, from: Data(buffer: filtered.body))
            #expect(only.manifests.map(\.digest) == [OCIDigest.compute(.sha256, of: sbom).description])
            #expect(filtered.headers[HTTPFields.Element.Name("OCI-Filters-Applied")!] == "artifactType")
        }
    }
}
