import Testing

@testable import HoardOCI

@Suite struct RouteTests {
    let d = "sha256:" + String(repeating: "ab", count: 32)
    var digest: OCIDigest { try! OCIDigest(parsing: d) }
    func name(_ s: String) -> RepositoryName { try! RepositoryName(s) }

    func route(_ m: String, _ p: String, _ q: [(String, String)] = []) throws -> OCIRoute {
        try OCIRoute.parse(method: m, rawPath: p, query: q)
    }

    func error(_ m: String, _ p: String, _ q: [(String, String)] = []) -> OCIError? {
        do {
            _ = try OCIRoute.parse(method: m, rawPath: p, query: q)
            return nil
        } catch {
            return error.ociError
        }
    }

    @Test func base() throws {
        #expect(try route("GET", "/v2/") == .apiVersionCheck)
        #expect(try route("HEAD", "/v2") == .apiVersionCheck)
        #expect(error("POST", "/v2/")?.status == 405)
        #expect(error("GET", "/v1/")?.status == 404)
        #expect(error("GET", "/v2x")?.status == 404)
    }

    @Test func catalog() throws {
        #expect(try route("GET", "/v2/_catalog", [("n", "5"), ("last", "a/b")]) == .catalog(PageRequest(limit: 5, last: "a/b")))
        #expect(try route("GET", "/v2/_catalog") == .catalog(PageRequest()))
    }

    @Test func tagsList() throws {
        #expect(try route("GET", "/v2/a/b/c/tags/list") == .listTags(name("a/b/c"), PageRequest()))
        #expect(try route("GET", "/v2/tags/list/tags/list") == .listTags(name("tags/list"), PageRequest()))
        #expect(try route("GET", "/v2/x/tags/list", [("n", "100000000")]) == .listTags(name("x"), PageRequest(limit: 10_000)))
        #expect(error("GET", "/v2/x/tags/list", [("n", "abc")])?.status == 400)
        #expect(error("GET", "/v2/x/tags/list", [("n", "-1")])?.status == 400)
        #expect(error("GET", "/v2/tags/list")?.status == 404)
        #expect(error("PUT", "/v2/x/tags/list")?.status == 405)
    }

    @Test func manifests() throws {
        let deep = "channel-mirrors/conda-forge/linux-64/a/b/c/d/e/f/zlib"
        #expect(try route("GET", "/v2/\(deep)/manifests/1.2.11-h_0") == .getManifest(name(deep), .tag(Tag("1.2.11-h_0")), head: false))
        #expect(try route("HEAD", "/v2/x/manifests/\(d)") == .getManifest(name("x"), .digest(digest), head: true))
        #expect(
            try route("PUT", "/v2/x/manifests/\(d)", [("tag", "a"), ("tag", "b")])
                == .putManifest(name("x"), .digest(digest), extraTags: [Tag("a"), Tag("b")]))
        #expect(try route("DELETE", "/v2/x/manifests/latest") == .deleteManifest(name("x"), .tag(Tag("latest"))))
        #expect(try route("GET", "/v2/manifests/manifests/manifests/manifests") == .getManifest(name("manifests/manifests"), .tag(Tag("manifests")), head: false))
        // A digest-looking reference that is broken → 400 DIGEST_INVALID.
        #expect(error("GET", "/v2/x/manifests/sha256:abc")?.code == .digestInvalid)
        // A tag that can never exist: 404 when reading, 400 when writing.
        #expect(error("GET", "/v2/x/manifests/a+b")?.status == 404)
        #expect(error("PUT", "/v2/x/manifests/a+b")?.code == .manifestInvalid)
        #expect(error("PUT", "/v2/x/manifests/latest", [("tag", "bad tag")])?.code == .manifestInvalid)
        #expect(error("POST", "/v2/x/manifests/latest")?.status == 405)
        #expect(error("GET", "/v2/X/manifests/latest")?.code == .nameInvalid)
        #expect(error("GET", "/v2//manifests/latest")?.code == .nameInvalid)
    }

    @Test func digestPercentEncoded() throws {
        let encoded = d.replacingAll(":", with: "%3A")
        #expect(try route("GET", "/v2/x/blobs/\(encoded)") == .getBlob(name("x"), digest, head: false))
        #expect(try route("GET", "/v2/x/manifests/\(d.replacingAll(":", with: "%3a"))") == .getManifest(name("x"), .digest(digest), head: false))
        // %2F must not split a name; it decodes into a component and fails the grammar.
        #expect(error("GET", "/v2/a%2Fb/manifests/latest")?.code == .nameInvalid)
        #expect(error("GET", "/v2/a%zz/manifests/latest")?.code == .nameInvalid)
        #expect(error("GET", "/v2/a/blobs/sha256%3")?.status == 400)
        #expect(error("GET", "/v2/a%FF/tags/list")?.code == .nameInvalid)  // not UTF-8
    }

    @Test func blobs() throws {
        #expect(try route("GET", "/v2/a/b/blobs/\(d)") == .getBlob(name("a/b"), digest, head: false))
        #expect(try route("HEAD", "/v2/a/blobs/\(d)") == .getBlob(name("a"), digest, head: true))
        #expect(try route("DELETE", "/v2/a/blobs/\(d)") == .deleteBlob(name("a"), digest))
        // Names ending in "blobs" (or containing the keywords) split at the last keyword.
        #expect(try route("GET", "/v2/blobs/blobs/\(d)") == .getBlob(name("blobs"), digest, head: false))
        #expect(try route("GET", "/v2/x/blobs/uploads/blobs/\(d)") == .getBlob(name("x/blobs/uploads"), digest, head: false))
        #expect(error("GET", "/v2/a/blobs/notadigest")?.code == .digestInvalid)
        #expect(error("GET", "/v2/a/blobs/sha256:" + String(repeating: "AB", count: 32))?.code == .digestInvalid)
        #expect(error("PUT", "/v2/a/blobs/\(d)")?.status == 405)
        #expect(error("GET", "/v2/blobs/\(d)")?.status == 404)
    }

    @Test func startUpload() throws {
        #expect(try route("POST", "/v2/a/b/blobs/uploads/") == .startUpload(name("a/b"), .session(digestAlgorithm: nil)))
        #expect(try route("POST", "/v2/blobs/blobs/uploads/") == .startUpload(name("blobs"), .session(digestAlgorithm: nil)))
        #expect(try route("POST", "/v2/a/blobs/uploads") == .startUpload(name("a"), .session(digestAlgorithm: nil)))
        #expect(try route("POST", "/v2/a/blobs/uploads/", [("digest", d)]) == .startUpload(name("a"), .monolithic(digest)))
        #expect(
            try route("POST", "/v2/a/blobs/uploads/", [("mount", d), ("from", "other/repo")])
                == .startUpload(name("a"), .mount(digest, from: name("other/repo"))))
        #expect(try route("POST", "/v2/a/blobs/uploads/", [("mount", d)]) == .startUpload(name("a"), .mount(digest, from: nil)))
        #expect(
            try route("POST", "/v2/a/blobs/uploads/", [("digest-algorithm", "sha512")])
                == .startUpload(name("a"), .session(digestAlgorithm: .sha512)))
        #expect(error("POST", "/v2/a/blobs/uploads/", [("mount", d), ("from", "Bad")])?.code == .nameInvalid)
        #expect(error("POST", "/v2/a/blobs/uploads/", [("digest", "sha256:1")])?.code == .digestInvalid)
        #expect(error("GET", "/v2/a/blobs/uploads/")?.status == 405)
        #expect(error("POST", "/v2/blobs/uploads/")?.status == 404)  // no name at all
    }

    @Test func uploadSession() throws {
        let s = UploadSessionID("3f2a9c1e-1234-4abc-9def-0123456789ab")!
        let base = "/v2/org/blobs/repo/blobs/uploads/\(s.value)"
        #expect(try route("GET", base) == .uploadStatus(name("org/blobs/repo"), s))
        #expect(try route("PATCH", base) == .uploadChunk(name("org/blobs/repo"), s))
        #expect(try route("DELETE", base) == .cancelUpload(name("org/blobs/repo"), s))
        #expect(try route("PUT", base, [("digest", d)]) == .finishUpload(name("org/blobs/repo"), s, digest: digest))
        #expect(error("PUT", base)?.code == .digestInvalid)
        #expect(error("POST", base)?.status == 405)
        #expect(error("GET", "/v2/a/blobs/uploads/bad%20id")?.code == .blobUploadUnknown)
        #expect(OCIRoute.uploadStatus(name("a"), s).requiredAction == "push")
    }

    @Test func referrers() throws {
        #expect(try route("GET", "/v2/a/referrers/\(d)") == .referrers(name("a"), digest, artifactType: nil))
        #expect(
            try route("GET", "/v2/a/referrers/\(d)", [("artifactType", "application/vnd.example+json")])
                == .referrers(name("a"), digest, artifactType: "application/vnd.example+json"))
        #expect(error("GET", "/v2/a/referrers/latest")?.code == .digestInvalid)
        #expect(error("DELETE", "/v2/a/referrers/\(d)")?.status == 405)
    }

    @Test func unknownPaths() {
        for p in ["/v2/a/b", "/v2/a/uploads/x", "/v2/a/tags/lists", "/v2/a/foo/bar", "/", "/v2/a/blobs"] {
            #expect(error("GET", p)?.status == 404, "\(p)")
        }
    }

    @Test func strictQueryParsing() throws {
        let q = try OCIRoute.parseQuery("artifactType=application/vnd.x+json&tag=a&tag=b&mount=sha256%3Aab&empty")
        #expect(q.map(\.0) == ["artifactType", "tag", "tag", "mount", "empty"])
        #expect(q[0].1 == "application/vnd.x+json")  // "+" stays "+"
        #expect(q[3].1 == "sha256:ab")
        #expect(throws: OCIRouteError.self) { try OCIRoute.parseQuery("a=%G1") }
    }

    @Test func errorBody() throws {
        let body = OCIError(.blobUnknown, "blob x is unknown", detail: ["digest": "sha256:x"]).jsonBody
        #expect(String(decoding: body, as: UTF8.self) == #"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob x is unknown","detail":{"digest":"sha256:x"}}]}"#)
        #expect(OCIErrorCode.allCases.count == 14)
        #expect(OCIErrorCode.tooManyRequests.defaultStatus == 429)
        #expect(OCIErrorCode.denied.defaultStatus == 403)
        #expect(OCIErrorCode.unauthorized.defaultStatus == 401)
        #expect(OCIErrorCode.manifestUnknown.defaultStatus == 404)
        #expect(OCIError(.nameUnknown).message == "repository name not known to registry")
    }
}
