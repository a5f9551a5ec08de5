import Foundation
import Testing

@testable import HoardOCI

@Suite struct GrammarTests {
    static let hex64 = String(repeating: "a1", count: 32)
    static let hex128 = String(repeating: "0f", count: 64)

    @Test(arguments: [
        "a", "a/b", "conda-forge/linux-64/zlib", "channel-mirrors/conda-forge/linux-64/repodata.json",
        "zzz_libgcc_mutex", "a__b", "a---b", "a.b/c_d/e--f", "repodata.json/shards", "0", "a1/b2/c3/d4/e5/f6/g7",
    ])
    func goodNames(_ name: String) throws {
        #expect(try RepositoryName(name).value == name)
    }

    @Test(arguments: [
        "", "A", "Abc/def", "_lib", "a/", "/a", "a//b", "a_", "-a", "a.", "a..b", "a___b", "a._b", "a-.b",
        "a b", "a:b", "a/_b", "a@b", "../a", "a/./b", "é",
    ])
    func evilNames(_ name: String) {
        #expect(throws: RepositoryNameError.self) { try RepositoryName(name) }
    }

    @Test func nameLengthLimit() throws {
        let ok = String(repeating: "a", count: 255)
        #expect(try RepositoryName(ok).value.count == 255)
        #expect(throws: RepositoryNameError.tooLong(ok + "a", 255)) { try RepositoryName(ok + "a") }
        let error = try #require(throws: RepositoryNameError.self) { try RepositoryName("a..b") }
        #expect(error.ociError.code == .nameInvalid && error.ociError.status == 400)
    }

    @Test(arguments: ["latest", "_x", "1.2.11-h36c2ea0_1013", "A", "v1.0-rc.1", String(repeating: "t", count: 128)])
    func goodTags(_ tag: String) throws {
        #expect(try Tag(tag).value == tag)
    }

    @Test(arguments: ["", ".x", "-x", "a+b", "a!b", "a b", "a:b", "a/b", String(repeating: "t", count: 129)])
    func evilTags(_ tag: String) {
        #expect(throws: TagError.self) { try Tag(tag) }
    }

    @Test func goodDigests() throws {
        let d = try OCIDigest(parsing: "sha256:" + Self.hex64)
        #expect(d.algorithm == .sha256 && d.hex == Self.hex64 && d.description == "sha256:" + Self.hex64)
        #expect(try OCIDigest(parsing: "sha512:" + Self.hex128).algorithm == .sha512)
    }

    @Test func evilDigests() {
        let cases: [(String, OCIDigestError)] = [
            (Self.hex64, .missingAlgorithm(Self.hex64)),
            ("sha256:" + Self.hex64.uppercased(), .notLowercaseHex("sha256:" + Self.hex64.uppercased())),
            ("sha256:" + Self.hex64.dropLast(), .wrongLength("sha256:" + Self.hex64.dropLast(), expected: 64)),
            ("sha256:" + Self.hex64 + "0", .wrongLength("sha256:" + Self.hex64 + "0", expected: 64)),
            ("sha512:" + Self.hex64, .wrongLength("sha512:" + Self.hex64, expected: 128)),
            ("md5:" + Self.hex64, .unsupportedAlgorithm("md5")),
            ("blake3:" + Self.hex64, .unsupportedAlgorithm("blake3")),
            ("sha256:", .malformed("sha256:")),
            (":abc", .malformed(":abc")),
            ("SHA256:" + Self.hex64, .malformed("SHA256:" + Self.hex64)),
            ("sha256:" + String(Self.hex64.dropLast()) + "g", .notLowercaseHex("sha256:" + String(Self.hex64.dropLast()) + "g")),
            ("sha256:" + Self.hex64 + "/x", .malformed("sha256:" + Self.hex64 + "/x")),
            ("sha256+:" + Self.hex64, .malformed("sha256+:" + Self.hex64)),
        ]
        for (text, expected) in cases {
            #expect(throws: expected) { try OCIDigest(parsing: text) }
            #expect((try? OCIDigest(parsing: text)) == nil)
        }
        let e = OCIDigestError.malformed("x").ociError
        #expect(e.code == .digestInvalid && e.status == 400)
    }

    @Test func hashingMatchesKnownVectors() throws {
        #expect(OCIDigest.compute(of: Data()) == OCIDigest.emptySHA256)
        #expect(
            OCIDigest.compute(.sha256, of: Data("abc".utf8)).hex
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            OCIDigest.compute(.sha512, of: Data("abc".utf8)).hex
                == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
        // Incremental equals one-shot, for both algorithms.
        for alg in OCIDigest.Algorithm.allCases {
            var h = DigestHasher(alg)
            h.update(Data("a".utf8))
            "bc".utf8.withContiguousStorageIfAvailable { h.update(bufferPointer: UnsafeRawBufferPointer($0)) }
            #expect(h.finalize() == OCIDigest.compute(alg, of: Data("abc".utf8)))
            #expect(h.byteCount == 3)
        }
        #expect(OCIDigest.emptySHA256.matches(Data()))
        #expect(!OCIDigest.emptySHA256.matches(Data("x".utf8)))
    }

    @Test func references() throws {
        #expect(try Reference("latest") == .tag(Tag("latest")))
        #expect(try Reference("sha256:" + Self.hex64) == .digest(OCIDigest(parsing: "sha256:" + Self.hex64)))
        #expect(throws: ReferenceError.self) { try Reference("sha256:xyz") }
        #expect(throws: ReferenceError.self) { try Reference("a+b") }
    }
}
