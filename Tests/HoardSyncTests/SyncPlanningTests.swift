import Foundation
import HoardConda
import HoardStore
import Testing

@testable import HoardSync

@Suite struct PackageFilterTests {
    @Test func nameAlone() throws {
        let filter = try PackageFilter(parsing: "NumPy")
        #expect(filter.matches(name: "numpy", version: "1.26.4"))
        #expect(!filter.matches(name: "numpy-base", version: "1.26.4"))
    }

    @Test func versionRegexMustMatchTheWholeVersion() throws {
        let filter = try PackageFilter(parsing: "numpy@1\\.26\\..*")
        #expect(filter.matches(name: "numpy", version: "1.26.4"))
        #expect(!filter.matches(name: "numpy", version: "11.26.4"))
        #expect(!filter.matches(name: "numpy", version: "2.1.26.4"))
        let prefixOnly = try PackageFilter(parsing: "numpy@1")
        #expect(!prefixOnly.matches(name: "numpy", version: "1.26"))
    }

    @Test func badInputIsAnErrorNotATrap() {
        #expect(throws: SyncError.self) { try PackageFilter(parsing: "@1.0") }
        #expect(throws: SyncError.self) { try PackageFilter(parsing: "numpy@([") }
    }
}

@Suite struct RepodataSubsetTests {
    let document = Array("""
        {"info":{"subdir":"noarch"},"packages":{"a-1-0.tar.bz2":{"name":"a","size":1}},\
        "packages.conda":{"a-1-0.conda":{"name":"a","size":2},"b-1-0.conda":{"name":"b","size":3}},"repodata_version":1}
        """.utf8)

    @Test func keepsOnlyTheListedFilesAndEverythingElse() throws {
        let subset = try RepodataSubset.make(from: document, keep: ["a-1-0.conda"])
        let parsed = try JSONSerialization.jsonObject(with: Data(subset.json)) as? [String: Any]
        #expect((parsed?["packages"] as? [String: Any])?.isEmpty == true)
        #expect((parsed?["packages.conda"] as? [String: Any])?.keys.sorted() == ["a-1-0.conda"])
        #expect((parsed?["info"] as? [String: Any])?["subdir"] as? String == "noarch")
        #expect(try Zstd.decompress(subset.zst, maxOutput: 1 << 20) == subset.json)
    }

    @Test func sameInputSameBytes() throws {
        let a = try RepodataSubset.make(from: document, keep: ["b-1-0.conda", "a-1-0.tar.bz2"])
        let b = try RepodataSubset.make(from: document, keep: ["a-1-0.tar.bz2", "b-1-0.conda"])
        #expect(a.json == b.json && a.zst == b.zst)
    }

    @Test func notAnObjectIsAnError() {
        #expect(throws: (any Error).self) { try RepodataSubset.make(from: Array("[1,2]".utf8), keep: []) }
        #expect(throws: (any Error).self) { try RepodataSubset.make(from: Array("{\"packages\":".utf8), keep: []) }
    }
}

@Suite struct SubdirPlanTests {
    func digest(_ n: UInt8) -> BlobDigest { BlobDigest.of([n]) }

    @Test func publishedFilesNoUnitCoversStayListedWhileTheirRecordIsUnchanged() {
        let records: [String: PackageDigest] = [
            "a-1.0-0.conda": PackageDigest(sha256: digest(1), size: 10),
            "b-2.0-0.conda": PackageDigest(sha256: digest(2), size: 20),
            "c-3.0-0.conda": PackageDigest(sha256: digest(3), size: 30),
            "_d-1.0+x-0.tar.bz2": PackageDigest(sha256: digest(4), size: 40),
        ]
        let published: [String: PackageDigest] = [
            "a-1.0-0.conda": PackageDigest(sha256: digest(1), size: 10),  // re-published by a unit of this run
            "b-2.0-0.conda": PackageDigest(sha256: digest(2), size: 20),  // left alone: carried
            "c-3.0-0.conda": PackageDigest(sha256: digest(9), size: 30),  // upstream replaced it: not carried
            "_d-1.0+x-0.tar.bz2": PackageDigest(sha256: digest(4), size: 40),
            "gone-1.0-0.conda": PackageDigest(sha256: digest(5), size: 50),  // no longer in the repodata
        ]
        let carried = SubdirPlan.carried(
            records: records, published: published, covered: ["ch/noarch/a:1.0-0"], channel: "ch", subdir: "noarch")
        #expect(carried.keys.sorted() == ["_d-1.0+x-0.tar.bz2", "b-2.0-0.conda"])
        let coveredToo = SubdirPlan.carried(
            records: records, published: published, covered: ["ch/noarch/a:1.0-0", "ch/noarch/zzz_d:1.0__p__x-0"], channel: "ch",
            subdir: "noarch")
        #expect(coveredToo.keys.sorted() == ["b-2.0-0.conda"])
    }
}

/// Protected channels (issue 11) are never published by the "every channel" default.
@Suite struct ProtectedChannelSelectionTests {
    @Test func leftOutUnlessNamed() {
        var options = SyncOptions()
        options.protectedChannels = ["priv"]
        #expect(options.wants(channel: "pub", subdir: "noarch"))
        #expect(!options.wants(channel: "priv", subdir: "noarch"))
        #expect(options.skipsProtected("priv") && !options.skipsProtected("pub"))
        #expect(options.namedProtectedChannels.isEmpty)
    }

    @Test func publishedWhenNamed() {
        var options = SyncOptions()
        options.protectedChannels = ["priv", "other"]
        options.channels = ["priv", "pub"]
        #expect(options.wants(channel: "priv", subdir: "noarch"))
        #expect(options.wants(channel: "pub", subdir: "linux-64"))
        #expect(!options.wants(channel: "other", subdir: "noarch"))
        #expect(options.namedProtectedChannels == ["priv"])
    }
}

@Suite struct RegistryKnowledgeTests {
    @Test func withoutACatalogNoRepositoryIsKnownNew() {
        let knowledge = RegistryKnowledge(listed: nil)
        #expect(!knowledge.isNew("ch/noarch/a"))
    }

    @Test func aRepositoryTheCatalogOmitsIsNew() {
        let knowledge = RegistryKnowledge(listed: ["ch/noarch/a"])
        #expect(!knowledge.isNew("ch/noarch/a"))
        #expect(knowledge.isNew("ch/noarch/b"))
    }

    @Test func blobsPlacedThisRunAreMountSourcesElsewhere() {
        let knowledge = RegistryKnowledge(listed: [])
        let digest = BlobDigest.of([1, 2, 3])
        #expect(knowledge.elsewhere(digest, than: "x") == nil)
        knowledge.note(digest, in: "x")
        knowledge.note(digest, in: "y")
        #expect(knowledge.placed(digest, in: "x") && knowledge.placed(digest, in: "y"))
        #expect(!knowledge.placed(digest, in: "z"))
        #expect(knowledge.elsewhere(digest, than: "x") == nil)
        #expect(knowledge.elsewhere(digest, than: "z") == "x")
    }
}
