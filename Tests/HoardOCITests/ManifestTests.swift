import Foundation
import Testing

@testable import HoardOCI

@Suite struct ManifestTests {
    static let a = "sha256:" + String(repeating: "a", count: 64)
    static let b = "sha256:" + String(repeating: "b", count: 64)
    static let c = "sha256:" + String(repeating: "c", count: 64)

    static let ociManifest = """
        {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
         "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(a)","size":7023},
         "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"\(b)","size":32654,
                    "annotations":{"org.opencontainers.image.title":"x.tgz"}},
                   {"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"\(b)","size":32654}],
         "subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(c)","size":10},
         "annotations":{"com.example.key":"value"}}
        """

    @Test func ociImageManifest() throws {
        let bytes = Data(Self.ociManifest.utf8)
        let m = try Manifest.parse(bytes)
        #expect(m.kind == .ociImageManifest)
        #expect(m.mediaType == OCIMediaType.imageManifest && m.mediaTypeInDocument)
        #expect(m.config?.size == 7023)
        #expect(m.layers.count == 2)
        #expect(m.layers[0].annotations?["org.opencontainers.image.title"] == "x.tgz")
        #expect(m.referencedBlobs.map(\.description) == [Self.a, Self.b])  // deduplicated, config first
        #expect(m.childManifests.isEmpty)
        #expect(m.subject?.digest.description == Self.c)
        #expect(m.artifactType == "application/vnd.oci.image.config.v1+json")  // falls back to config type
        #expect(m.annotations == ["com.example.key": "value"])
        #expect(m.digest == OCIDigest.compute(of: bytes))  // digest of the exact bytes
        #expect(m.size == bytes.count)
    }

    @Test func artifactTypeWins() throws {
        let json = """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.sbom",
             "config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"\(Self.a)","size":2},"layers":[]}
            """
        let m = try Manifest.parse(Data(json.utf8))
        #expect(m.artifactType == "application/vnd.example.sbom")
        #expect(m.declaredArtifactType == "application/vnd.example.sbom")
    }

    @Test func ociIndexWithPlatform() throws {
        let json = """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
             "manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(Self.a)","size":7143,
                           "platform":{"architecture":"ppc64le","os":"linux","os.features":["x"]}},
                          {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(Self.b)","size":7682,
                           "platform":{"architecture":"amd64","os":"linux"}}],
             "annotations":{"com.example.key1":"value1"}}
            """
        let m = try Manifest.parse(Data(json.utf8))
        #expect(m.kind == .ociImageIndex)
        #expect(m.childManifests.map(\.description) == [Self.a, Self.b])
        #expect(m.referencedBlobs.isEmpty)
        #expect(m.manifests[0].platform?["architecture"] == .string("ppc64le"))
        #expect(m.manifests[0].platform?["os.features"] == .array([.string("x")]))
        #expect(m.artifactType == nil)
    }

    @Test func dockerSchema2AndList() throws {
        let docker = """
            {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
             "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1469,"digest":"\(Self.a)"},
             "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":2818413,"digest":"\(Self.b)"}]}
            """
        let m = try Manifest.parse(Data(docker.utf8), contentType: "application/vnd.docker.distribution.manifest.v2+json")
        #expect(m.kind == .dockerManifest && m.referencedBlobs.count == 2)
        let list = """
            {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
             "manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"digest":"\(Self.c)",
                           "platform":{"architecture":"arm","os":"linux","variant":"v7"}}]}
            """
        let l = try Manifest.parse(Data(list.utf8))
        #expect(l.kind == .dockerManifestList && l.childManifests.count == 1)
        #expect(l.manifests[0].platform?["variant"]?.stringValue == "v7")
    }

    @Test func mediaTypeFromContentTypeOrShape() throws {
        let noType = """
            {"schemaVersion":2,"config":{"mediaType":"application/vnd.unknown.config.v1+json","digest":"\(Self.a)","size":0},"layers":[]}
            """
        let fromHeader = try Manifest.parse(Data(noType.utf8), contentType: "application/vnd.oci.image.manifest.v1+json; charset=utf-8")
        #expect(fromHeader.mediaType == OCIMediaType.imageManifest && !fromHeader.mediaTypeInDocument)
        let guessed = try Manifest.parse(Data(noType.utf8), contentType: "application/json")
        #expect(guessed.kind == .ociImageManifest)
    }

    @Test func invalidManifests() {
        let cases: [(String, String?, String)] = [
            ("not json", nil, "not valid JSON"),
            ("[1,2]", nil, "JSON object"),
            (#"{"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#, nil, "schemaVersion is required"),
            (#"{"schemaVersion":"2"}"#, nil, "schemaVersion must be an integer"),
            (#"{"schemaVersion":1,"name":"x"}"#, nil, "schema 1"),
            (#"{"schemaVersion":3,"config":{}}"#, nil, "schemaVersion must be 2"),
            (#"{"schemaVersion":2}"#, nil, "cannot tell"),
            (#"{"schemaVersion":2,"mediaType":"text/html","layers":[]}"#, nil, "unsupported manifest media type"),
            (
                #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#, nil,
                "needs a \"config\""
            ),
            (
                #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"\#(Self.a)","size":1}}"#,
                nil, "needs a \"layers\""
            ),
            (
                #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"sha256:zz","size":1},"layers":[]}"#,
                nil, "config.digest"
            ),
            (
                #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"\#(Self.a)","size":-1},"layers":[]}"#,
                nil, "config.size must not be negative"
            ),
            (
                #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"\#(Self.a)","size":1},"layers":[{"mediaType":"a/b","digest":"\#(Self.a)","size":1.5}]}"#,
                nil, "layers[0].size must be an integer"
            ),
            (
                #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"\#(Self.a)","size":1},"layers":[{"mediaType":"nope","digest":"\#(Self.a)","size":1}]}"#,
                nil, "layers[0].mediaType"
            ),
            (
                #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"\#(Self.a)","size":1},"layers":[],"annotations":{"k":1}}"#,
                nil, "annotations.k must be a string"
            ),
            (
                #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"\#(Self.a)","size":1},"layers":[]}"#,
                "application/vnd.oci.image.index.v1+json", "does not match Content-Type"
            ),
            (#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"}"#, nil, "needs a \"manifests\""),
            (
                #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"a/b","digest":"\#(Self.a)","size":1,"platform":"linux"}]}"#,
                nil, "manifests[0].platform must be an object"
            ),
        ]
        for (json, contentType, fragment) in cases {
            do {
                _ = try Manifest.parse(Data(json.utf8), contentType: contentType)
                Issue.record("accepted invalid manifest: \(json)")
            } catch {
                #expect(error.message.contains(fragment), "\(error.message) should mention \(fragment)")
                #expect(error.ociError.code == .manifestInvalid && error.ociError.status == 400)
            }
        }
    }

    @Test func tooLarge() {
        let big = Data(repeating: 0x20, count: Manifest.maxSize + 1)
        #expect(throws: ManifestError.tooLarge(size: Manifest.maxSize + 1, limit: Manifest.maxSize)) { try Manifest.parse(big) }
        #expect(ManifestError.tooLarge(size: 1, limit: 0).ociError.status == 413)
    }

    @Test func referrersIndexFiltersAndIsStable() throws {
        let sbom = OCIDescriptor(
            mediaType: OCIMediaType.imageManifest, digest: try OCIDigest(parsing: Self.b), size: 10,
            annotations: ["org.opencontainers.image.created": "2026-01-01T00:00:00Z"], artifactType: "application/vnd.example.sbom")
        let sig = OCIDescriptor(
            mediaType: OCIMediaType.imageManifest, digest: try OCIDigest(parsing: Self.a), size: 20, artifactType: "application/vnd.example.sig")
        let all = ReferrersIndex.build(referrers: [sbom, sig])
        #expect(!all.filtersApplied)
        #expect(all.descriptors.map(\.digest.description) == [Self.a, Self.b])  // sorted by digest
        #expect(ReferrersIndex.build(referrers: [sig, sbom]).bytes == all.bytes)
        let parsedAll = try Manifest.parse(all.bytes)
        #expect(parsedAll.kind == .ociImageIndex && parsedAll.manifests.count == 2)
        #expect(parsedAll.manifests[1].artifactType == "application/vnd.example.sbom")
        #expect(parsedAll.manifests[1].annotations?["org.opencontainers.image.created"] == "2026-01-01T00:00:00Z")

        let only = ReferrersIndex.build(referrers: [sbom, sig], artifactType: "application/vnd.example.sbom")
        #expect(only.filtersApplied && only.descriptors == [sbom])
        let none = ReferrersIndex.build(referrers: [], artifactType: nil)
        #expect(String(decoding: none.bytes, as: UTF8.self) == #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#)
        #expect(try Manifest.parse(none.bytes).manifests.isEmpty)

        // A referrer's descriptor carries its artifactType (config fallback) and annotations.
        let m = try Manifest.parse(Data(Self.ociManifest.utf8))
        let d = ReferrersIndex.descriptor(for: m)
        #expect(d.artifactType == "application/vnd.oci.image.config.v1+json" && d.digest == m.digest && d.size == Int64(m.size))
        #expect(d.annotations == ["com.example.key": "value"])
    }

    /// Descriptor sizes from the wire: negative, past Int64, fractional or not a number are a
    /// clear `manifest invalid`, never a trap.
    @Test(arguments: ["-1", "18446744073709551615", "99999999999999999999999", "1.5", "1e400", "\"7\""])
    func descriptorSizesOutOfRangeAreInvalid(size: String) {
        let text = """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
             "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(Self.a)","size":\(size)},
             "layers":[]}
            """
        #expect(throws: ManifestError.self) { try Manifest.parse(Array(text.utf8)) }
    }

    @Test func theLargestSizeAnInt64HoldsIsAccepted() throws {
        let text = """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
             "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(Self.a)","size":9223372036854775807},
             "layers":[]}
            """
        #expect(try Manifest.parse(Array(text.utf8)).config?.size == .max)
    }
}
