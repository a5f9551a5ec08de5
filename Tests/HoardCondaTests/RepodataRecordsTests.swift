import Foundation
import HoardDigest
import Testing
@testable import HoardConda

/// A small repodata with a deterministic mix of complete and partial records.
func generatedRepodata(count: Int) -> (json: String, expected: [String: PackageDigest]) {
    var packages: [String: Any] = [:]
    var conda: [String: Any] = [:]
    var expected: [String: PackageDigest] = [:]
    for i in 0..<count {
        let hex = String(repeating: String(format: "%02x", i % 256), count: 32)
        var record: [String: Any] = ["name": "pkg-\(i)", "version": "1.\(i)", "build": "h\(i)_0", "depends": ["x >=1", "y {}"]]
        var digest = PackageDigest()
        if i % 4 != 1 { record["sha256"] = i % 4 == 2 ? hex.uppercased() : hex; digest.sha256 = BlobDigest(hex: hex) }
        if i % 4 != 3 { record["size"] = 1000 + i; digest.size = UInt64(1000 + i) }
        if i % 2 == 0 {
            packages["pkg-\(i)-1.\(i)-h\(i)_0.tar.bz2"] = record
            expected["pkg-\(i)-1.\(i)-h\(i)_0.tar.bz2"] = digest
        } else {
            conda["pkg-\(i)-1.\(i)-h\(i)_0.conda"] = record
            expected["pkg-\(i)-1.\(i)-h\(i)_0.conda"] = digest
        }
    }
    let doc: [String: Any] = ["info": ["subdir": "linux-64"], "packages": packages, "packages.conda": conda,
                              "removed": ["gone-1-0.conda"], "repodata_version": 1]
    let data = try! JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted])
    return (String(decoding: data, as: UTF8.self), expected)
}

@Suite struct RepodataRecordsTests {
    @Test func buildsMapPaddedAndUnpadded() throws {
        let (json, expected) = generatedRepodata(count: 200)
        let padded = PaddedBuffer(copying: Array(json.utf8))
        let map = try RepodataRecords.build(padded)
        #expect(map == expected)
        let copied = try Array(json.utf8).withUnsafeBytes { try RepodataRecords.build(document: $0) }
        #expect(copied == expected)
        #expect(map["pkg-2-1.2-h2_0.tar.bz2"]?.sha256Hex == String(repeating: "02", count: 32))
    }

    @Test func lookup() throws {
        let (json, expected) = generatedRepodata(count: 50)
        let buffer = PaddedBuffer(copying: Array(json.utf8))
        for name in ["pkg-7-1.7-h7_0.conda", "pkg-10-1.10-h10_0.tar.bz2", "pkg-9-1.9-h9_0.conda"] {
            #expect(try RepodataRecords.lookup(filename: CondaFilename(name), in: buffer) == expected[name])
        }
        #expect(try RepodataRecords.lookup(filename: CondaFilename("nope-1-0.conda"), in: buffer) == nil)
        // Wrong section: a .conda name never matches under "packages".
        #expect(try RepodataRecords.lookup(filename: CondaFilename("pkg-10-1.10-h10_0.conda"), in: buffer) == nil)
    }

    @Test func escapedKeysAndOddValues() throws {
        let json = #"{"packages.conda": {"a\u002db-1-0.conda": {"sha256": "zz", "size": -1}, "c-1-0.conda": {"size": 5, "sha256": null}}, "packages": {}}"#
        let map = try RepodataRecords.build(PaddedBuffer(copying: Array(json.utf8)))
        #expect(map == ["a-b-1-0.conda": PackageDigest(), "c-1-0.conda": PackageDigest(size: 5)])
    }

    @Test func md5AndTimestampOfCollectedRecords() throws {
        let json = #"{"packages.conda": {"a-1-0.conda": {"md5": "0123456789ABCDEF0123456789abcdef", "timestamp": 1700000000123},"#
            + #" "b-1-0.conda": {"md5": "short", "timestamp": 1600000000}}, "packages": {}}"#
        let map = try RepodataRecords.build(PaddedBuffer(copying: Array(json.utf8)))
        #expect(map["a-1-0.conda"]?.md5?.hex == "0123456789abcdef0123456789abcdef")
        #expect(map["a-1-0.conda"]?.timestampSeconds == 1_700_000_000.123)
        #expect(map["b-1-0.conda"]?.md5 == nil)
        #expect(map["b-1-0.conda"]?.timestampSeconds == 1_600_000_000)
    }

    @Test func invalidJSON() {
        for json in [#"{"packages": {"a-1-0.conda": {"size": 1}"#, "[1,2]", #"{"packages": {"a": {"size": 1,}}}"#] {
            #expect(throws: RepodataRecordsError.self) { try RepodataRecords.build(PaddedBuffer(copying: Array(json.utf8))) }
        }
    }

    @Test func digestHex() throws {
        let hex = "0123456789abcdef" + "fedcba9876543210" + "00ff00ff00ff00ff" + "a5a5a5a5a5a5a5a5"
        let d = try #require(BlobDigest(hex: hex.uppercased()))
        #expect(d.hex == hex)
        #expect(BlobDigest(bytes: d.bytes) == d)
        #expect(BlobDigest(hex: String(hex.dropLast())) == nil)
        #expect(BlobDigest(hex: String(hex.dropLast()) + "g") == nil)
    }
}
