import Foundation
import Testing
@testable import HoardConda

func scan(_ s: String) throws -> RepodataInfo {
    try Array(s.utf8).withUnsafeBytes { try RepodataInfoScanner.scan($0) }
}

func plan(_ s: String) throws -> RepodataRewritePlan {
    try Array(s.utf8).withUnsafeBytes { try RepodataRewrite.plan(document: $0) }
}

func applied(_ s: String, _ edits: [Edit]) -> String {
    var out: [UInt8] = []
    Array(s.utf8).withUnsafeBytes { doc in
        Edit.apply(edits, to: doc) { (chunk: UnsafeRawBufferPointer) in out.append(contentsOf: chunk) }
    }
    return String(decoding: out, as: UTF8.self)
}

func jsonObject(_ s: String) throws -> NSDictionary {
    try #require(JSONSerialization.jsonObject(with: Data(s.utf8)) as? NSDictionary)
}

@Suite struct RepodataScannerTests {
    let packages = #""packages": {"a-1-0.tar.bz2": {"depends": ["x {1}", "y]\"}"], "sha256": "00", "size": 1}}"#

    @Test func infoFirst() throws {
        let doc = #"{"info": {"subdir": "linux-64", "base_url": "https://example.org/cf/linux-64/"}, \#(packages), "repodata_version": 2}"#
        let info = try scan(doc)
        #expect(info.baseURL == "https://example.org/cf/linux-64/")
        #expect(info.shardsBaseURL == nil)
        let token = try #require(info.baseURLTokens.first)
        let bytes = Array(doc.utf8)
        #expect(String(decoding: bytes[token.range], as: UTF8.self) == #""https://example.org/cf/linux-64/""#)
        let range = try #require(info.infoRange)
        #expect(bytes[range.lowerBound] == UInt8(ascii: "{") && bytes[range.upperBound - 1] == UInt8(ascii: "}"))
    }

    @Test func infoLastAfterTrickyValues() throws {
        let doc = """
        {
          "packages.conda"  :  { "b-1-0.conda" : { "note": "brace } and [ and \\"quote\\" and \\\\", "n": [1, -2.5e3, true, false, null, {"k": []}] } },
          \(packages),
          "removed":["x-1-0.conda"],
          "repodata_version":1,
          "info"\t:\n{ "shards_base_url" : "https://x.org/s/", "base_url": "\\u0068ttps://x.org/\\/p\\"q" }
        }
        """
        let info = try scan(doc)
        #expect(info.shardsBaseURL == "https://x.org/s/")
        #expect(info.baseURL == "https://x.org//p\"q")
    }

    @Test func infoAbsent() throws {
        let info = try scan(#"{"packages": {}, "packages.conda": {}, "removed": [], "repodata_version": 1}"#)
        #expect(info.infoRange == nil && info.baseURL == nil)
        let empty = try scan(" { } ")
        #expect(empty.infoRange == nil)
    }

    @Test func escapedInfoKeyAndNonStringBaseURL() throws {
        let info = try scan(#"{"\u0069nfo": {"base_url": null, "shards_base_url": "./shards/"}}"#)
        #expect(info.infoRange != nil)
        #expect(info.baseURL == nil)
        #expect(info.shardsBaseURL == "./shards/")
    }

    @Test func stopsAfterInfo() throws {
        // Garbage after info is never read: that is the point of stopping early.
        let info = try scan(#"{"info": {"base_url": "./"}, THIS IS NOT JSON"#)
        #expect(info.baseURL == "./")
    }

    @Test(arguments: [
        "", "[]", "{", #"{"info""#, #"{"info": "#, #"{"info": []}"#, #"{"info": {"base_url": "abc}}"#,
        #"{"packages": {"a": [}, "info": {}}"#, #"{"packages": tru, "info": {}}"#, #"{"packages" {}, "info": {}}"#,
        #"{"info": {"base_url": "\x"}}"#, #"{"info": {"base_url": "\ud800"}}"#, "{\"info\": {\"base_url\": \"a\nb\"}}",
        #"{"a": 1 "info": {}}"#, #"{"packages": {"x": "unterminated}, "info": {}}"#,
    ])
    func invalid(doc: String) {
        #expect(throws: RepodataScanError.self) { try scan(doc) }
    }

    @Test func rewriteRoundTrip() throws {
        let doc = """
        {"info":{"subdir":"linux-64","base_url":"https://conda.anaconda.org/conda-forge/linux-64/","shards_base_url":"https://fast.example/shards/linux-64/","x":{"base_url":"https://nested.example/"}},
         \(packages),"removed":[],"repodata_version":2}
        """
        let p = try plan(doc)
        #expect(p.upstreamBaseURL == "https://conda.anaconda.org/conda-forge/linux-64/")
        #expect(p.upstreamShardsBaseURL == "https://fast.example/shards/linux-64/")
        #expect(p.edits.count == 2)
        let out = applied(doc, p.edits)
        #expect(out.utf8.count == Edit.resultCount(of: p.edits, originalCount: doc.utf8.count))
        let before = try jsonObject(doc).mutableCopy() as! NSMutableDictionary
        let after = try jsonObject(out)
        let info = (before["info"] as! NSDictionary).mutableCopy() as! NSMutableDictionary
        info["base_url"] = "./"
        info["shards_base_url"] = "./shards/"
        before["info"] = info
        #expect(after == before)
        // Nested look-alikes are left alone.
        #expect(((after["info"] as! NSDictionary)["x"] as! NSDictionary)["base_url"] as? String == "https://nested.example/")
    }

    @Test func relativeValuesAreKept() throws {
        for doc in [#"{"info": {"base_url": "./", "shards_base_url": "shards/"}}"#,
                    #"{"info": {"base_url": "../pkgs/"}}"#, #"{"info": {}}"#, "{}"] {
            let p = try plan(doc)
            #expect(p.isUnchanged)
            #expect(applied(doc, p.edits) == doc)
        }
    }

    @Test func absoluteDetection() {
        for s in ["http://a/", "HTTPS://a/", "s3://bucket/", "file:///x", "//host/path"] { #expect(RepodataRewrite.isAbsoluteURL(s)) }
        for s in ["", "./", "/abs/path/", "shards/", "a/b:c", "../x", "1http://x"] { #expect(!RepodataRewrite.isAbsoluteURL(s)) }
    }

    @Test func duplicateBaseURLsAreAllRewritten() throws {
        let doc = #"{"info": {"base_url": "https://a/", "base_url": "https://b/"}, "packages": {}}"#
        let p = try plan(doc)
        #expect(p.edits.count == 2)
        #expect(p.upstreamBaseURL == "https://b/")
        #expect(applied(doc, p.edits) == #"{"info": {"base_url": "./", "base_url": "./"}, "packages": {}}"#)
    }

    @Test func whitespaceVariants() throws {
        for ws in ["", " ", "\n", "\r\n\t  "] {
            let doc = "\(ws){\(ws)\"info\"\(ws):\(ws){\(ws)\"base_url\"\(ws):\(ws)\"https://h/\"\(ws)}\(ws),\(ws)\"packages\"\(ws):\(ws){\(ws)}\(ws)}\(ws)"
            let p = try plan(doc)
            #expect(p.upstreamBaseURL == "https://h/")
            let out = applied(doc, p.edits)
            #expect((try jsonObject(out)["info"] as? NSDictionary)?["base_url"] as? String == "./")
        }
    }
}
