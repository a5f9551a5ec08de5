import Foundation
import HoardDigest
import Testing
@testable import HoardConda

private func filtered(_ doc: String, keep: Set<String>) throws -> String {
    var out: [UInt8] = []
    try Array(doc.utf8).withUnsafeBytes { bytes in
        let layout = try RepodataLayout.scan(bytes)
        RepodataFilter.write(bytes, layout: layout, keep: { keep.contains($0.filename) }) { (part: UnsafeRawBufferPointer) in
            out.append(contentsOf: part)
        }
    }
    return String(decoding: out, as: UTF8.self)
}

private func layout(_ doc: String) throws -> RepodataLayout {
    try Array(doc.utf8).withUnsafeBytes { try RepodataLayout.scan($0) }
}

@Suite struct RepodataFilterTests {
    static let sha = String(repeating: "ab", count: 32)
    static let md5 = String(repeating: "cd", count: 16)
    let doc = """
        {"info": {"subdir": "noarch", "base_url": "./"},
         "packages": {"a-1-0.tar.bz2": {"name": "a", "depends": ["b }", "c]\\"{"], "size": 1},
                      "b-2-0.tar.bz2": {"name": "b", "size": 2}},
         "packages.conda": {"a-1-0.conda": {"name": "a", "sha256": "\(sha)", "md5": "\(md5)", "arch": null, "size": 3},
                            "c-1-0.conda": {"name": "c", "size": 4, "timestamp": 1700000000000}},
         "removed": ["z-1-0.conda"], "repodata_version": 1}
        """

    @Test func layoutFindsEveryRecord() throws {
        let l = try layout(doc)
        #expect(l.subdir == "noarch")
        #expect(l.records.map(\.filename) == ["a-1-0.tar.bz2", "b-2-0.tar.bz2", "a-1-0.conda", "c-1-0.conda"])
        #expect(l.records.map(\.section) == [.packages, .packages, .packagesConda, .packagesConda])
        let bytes = Array(doc.utf8)
        for record in l.records {
            #expect(bytes[record.value.lowerBound] == UInt8(ascii: "{") && bytes[record.value.upperBound - 1] == UInt8(ascii: "}"))
            #expect(bytes[record.member.lowerBound] == UInt8(ascii: "\""))
        }
    }

    @Test func keepsOnlyTheChosenRecordsAndEverythingElse() throws {
        let out = try filtered(doc, keep: ["b-2-0.tar.bz2", "c-1-0.conda"])
        let object = try #require(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect((object["packages"] as? [String: Any]).map { Set($0.keys) } == ["b-2-0.tar.bz2"])
        #expect((object["packages.conda"] as? [String: Any]).map { Set($0.keys) } == ["c-1-0.conda"])
        #expect(object["removed"] as? [String] == ["z-1-0.conda"])
        #expect((object["info"] as? [String: String])?["subdir"] == "noarch")
        #expect(out.contains(#""c-1-0.conda": {"name": "c", "size": 4, "timestamp": 1700000000000}"#), "records are copied byte for byte")
    }

    @Test func keepingNothingLeavesEmptySections() throws {
        let out = try filtered(doc, keep: [])
        let object = try #require(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect((object["packages"] as? [String: Any])?.isEmpty == true)
        #expect((object["packages.conda"] as? [String: Any])?.isEmpty == true)
    }

    @Test func keepingEverythingIsTheSameDocument() throws {
        let all = Set(try layout(doc).records.map(\.filename))
        let out = try filtered(doc, keep: all)
        let a = try #require(JSONSerialization.jsonObject(with: Data(out.utf8)) as? NSDictionary)
        let b = try #require(JSONSerialization.jsonObject(with: Data(doc.utf8)) as? NSDictionary)
        #expect(a == b)
    }

    @Test func emptyAndMissingSections() throws {
        #expect(try filtered(#"{"info": {}, "packages": {}}"#, keep: []) == #"{"info": {}, "packages": {}}"#)
        #expect(try filtered(#"{"info": {}}"#, keep: []) == #"{"info": {}}"#)
        #expect(try layout(#"{}"#).records.isEmpty)
    }

    @Test func brokenDocumentsAreErrorsNotTraps() {
        for bad in [#"{"packages": {"a-1-0.conda": {"x": 1}"#, #"{"packages": {"a": }}"#, #"["packages"]"#, "", #"{"packages": {1: {}}}"#] {
            #expect(throws: RepodataScanError.self) { try layout(bad) }
        }
    }
}

@Suite struct ShardGeneratorTests {
    @Test func jsonBecomesMessagePack() throws {
        let json = #"{"a": 1, "b": -2, "c": 1.5, "d": [true, false, null], "e": "x\"\u00e9", "f": 18446744073709551615, "h": 100000000000000000000000}"#
        let value = try Array(json.utf8).withUnsafeBytes { try JSONMessagePack.decode($0) }
        #expect(value["a"] == .uint(1))
        #expect(value["b"] == .int(-2))
        #expect(value["c"] == .double(1.5))
        #expect(value["d"] == .array([.bool(true), .bool(false), .nil]))
        #expect(value["e"] == .string("x\"é"))
        #expect(value["f"] == .uint(UInt64.max))
        #expect(value["h"] == .double(1e23), "an integer no 64 bits hold stays a number")
        #expect(value.mapValue?.map { $0.key.stringValue } == ["a", "b", "c", "d", "e", "f", "h"])
    }

    @Test func infiniteNumbersAreRefused() {
        // 1e400 is not a finite double: an error, not a trap or an `inf` in a shard.
        #expect(throws: RepodataScanError.self) { try Array(#"{"g": 1e400}"#.utf8).withUnsafeBytes { try JSONMessagePack.decode($0) } }
    }

    @Test func shardsGroupByNameWithDigestsAsBytes() throws {
        let sha = String(repeating: "ab", count: 32)
        let md5 = String(repeating: "cd", count: 16)
        let doc = """
            {"packages": {"lib-a-1-0.tar.bz2": {"name": "lib-a", "sha256": "\(sha)", "md5": "\(md5)", "arch": null}, "not a package": {}},
             "packages.conda": {"lib-a-1-0.conda": {"name": "lib-a", "sha256": "nothex"}, "b-1-0.conda": {"name": "b"}}}
            """
        let bytes = Array(doc.utf8)
        let shard = try bytes.withUnsafeBytes { raw -> MessagePackValue in
            let l = try RepodataLayout.scan(raw)
            let groups = ShardGenerator.groups(l)
            #expect(groups.map(\.name) == ["b", "lib-a"])
            return try MessagePack.decode(try ShardGenerator.shard(groups[1], layout: l, document: raw))
        }
        let packages = try #require(shard["packages"])
        let record = try #require(packages["lib-a-1-0.tar.bz2"])
        #expect(record["sha256"] == .binary(ShardGenerator.hexBytes(sha, count: 32) ?? []))
        #expect(record["md5"]?.binaryValue?.count == 16)
        #expect(record["arch"] == nil, "nulls are left out, as rattler-index writes")
        #expect(shard["packages.conda"]?["lib-a-1-0.conda"]?["sha256"] == .string("nothex"))
        #expect(shard["removed"] == .array([]))
        #expect(shard.mapValue?.map { $0.key.stringValue } == ["packages", "packages.conda", "removed"])
        // What the existing reader (used for package checks) makes of a generated shard.
        let compressed = try Zstd.compress(MessagePack.encode(shard))
        let records = try Shard.records(from: compressed)
        #expect(records["lib-a-1-0.tar.bz2"]?.sha256?.hex == sha)
    }

    @Test func indexIsReadBackByShardIndex() throws {
        let digest = try #require(BlobDigest(hex: String(repeating: "0f", count: 32)))
        let raw = ShardGenerator.index(subdir: "linux-64", createdAt: "2026-12-01T00:00:00Z", shards: [("numpy", digest)])
        let index = try ShardIndex(compressed: try Zstd.compress(raw))
        #expect(index.shards == ["numpy": digest.hex])
        #expect(index.baseURL == "./" && index.shardsBaseURL == "./shards/")
        #expect(index.document["version"] == .uint(1))
        #expect(index.document["info"]?["subdir"] == .string("linux-64"))
        #expect(!index.rewritten().changed, "hoard serves its own index as it made it")
    }
}

@Suite struct MessagePackJSONTests {
    @Test func shardRecordsBecomeRepodataJSON() throws {
        let sha = [UInt8](repeating: 0xAB, count: 32)
        let record = MessagePackValue.map([
            MessagePackPair(.string("name"), .string("a\"b\\c\n\u{1}")),
            MessagePackPair(.string("sha256"), .binary(sha)),
            MessagePackPair(.string("md5"), .array((0..<16).map { .uint(UInt64($0)) })),
            MessagePackPair(.string("size"), .uint(3)),
            MessagePackPair(.string("n"), .int(-1)),
            MessagePackPair(.string("f"), .double(1.5)),
            MessagePackPair(.string("inf"), .double(.infinity)),
            MessagePackPair(.string("depends"), .array([.string("x >=1"), .nil, .bool(true)])),
        ])
        let bytes = ShardGenerator.repodata(subdir: "noarch", packages: [], packagesConda: [MessagePackPair(.string("a-1-0.conda"), record)])
        let object = try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let parsed = try #require((object["packages.conda"] as? [String: Any])?["a-1-0.conda"] as? [String: Any])
        #expect(parsed["name"] as? String == "a\"b\\c\n\u{1}")
        #expect(parsed["sha256"] as? String == String(repeating: "ab", count: 32))
        #expect(parsed["md5"] as? String == "000102030405060708090a0b0c0d0e0f")
        #expect(parsed["size"] as? Int == 3 && parsed["n"] as? Int == -1 && parsed["f"] as? Double == 1.5)
        #expect(parsed["inf"] is NSNull)
        #expect((object["info"] as? [String: String])?["subdir"] == "noarch")
        #expect(object["repodata_version"] as? Int == 1)
        // The filter and the record scanner read what this writes.
        let layout = try bytes.withUnsafeBytes { try RepodataLayout.scan($0) }
        #expect(layout.records.map(\.filename) == ["a-1-0.conda"])
    }
}
