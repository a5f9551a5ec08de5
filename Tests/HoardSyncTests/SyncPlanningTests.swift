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

    func subdir(records: [String: PackageDigest], stored: [String: (digest: BlobDigest, size: Int64)]) -> StoreSubdir {
        let row = RepodataRow(channel: "ch", label: "", subdir: "noarch", name: "repodata.json", digest: digest(0), fetchedAt: 0, validatedAt: 0)
        return StoreSubdir(
            channel: "ch", subdir: "noarch", row: row, servedDigest: digest(0), servedSize: 1, zst: nil, records: records, stored: stored)
    }

    @Test func groupsFormatsUnderOneTagAndReportsWhatCannotBePublished() {
        let records: [String: PackageDigest] = [
            "a-1.0-0.conda": PackageDigest(sha256: digest(1), size: 10),
            "a-1.0-0.tar.bz2": PackageDigest(sha256: digest(2), size: 20),
            "_b-1.0+x-0.conda": PackageDigest(sha256: digest(3), size: 30),
            "c-1.0-bad build.conda": PackageDigest(sha256: digest(4), size: 40),
            "d-1.0-0.conda": PackageDigest(sha256: digest(5), size: 50),
            "e-1.0-0.conda": PackageDigest(sha256: digest(6), size: 60),
        ]
        let stored: [String: (digest: BlobDigest, size: Int64)] = [
            "a-1.0-0.conda": (digest(1), 10), "a-1.0-0.tar.bz2": (digest(2), 20), "_b-1.0+x-0.conda": (digest(3), 30),
            "c-1.0-bad build.conda": (digest(4), 40),
            "d-1.0-0.conda": (digest(9), 50),  // the store holds other bytes under this name
        ]
        let plan = SubdirPlan(subdir(records: records, stored: stored), options: SyncOptions(), published: [:])
        #expect(plan.units.map(\.label) == ["ch/noarch/a:1.0-0", "ch/noarch/zzz_b:1.0__p__x-0"])
        #expect(plan.units[0].archives.map(\.filename) == ["a-1.0-0.conda", "a-1.0-0.tar.bz2"])
        #expect(plan.skipped.count == 2)
        #expect(plan.skipped.contains { $0.contains("c-1.0-bad build.conda") })
        #expect(plan.skipped.contains { $0.contains("d-1.0-0.conda") && $0.contains("not the one") })
        #expect(plan.carried.isEmpty)  // e is neither stored nor published
    }

    @Test func publishedFilesTheStoreLacksAreCarriedAndFiltersLeaveThemListed() throws {
        let records: [String: PackageDigest] = [
            "a-1.0-0.conda": PackageDigest(sha256: digest(1), size: 10),
            "b-2.0-0.conda": PackageDigest(sha256: digest(2), size: 20),
        ]
        var options = SyncOptions()
        options.packages = [try PackageFilter(parsing: "a")]
        let published = ["b-2.0-0.conda": PackageDigest(sha256: digest(2), size: 20)]
        let plan = SubdirPlan(subdir(records: records, stored: ["a-1.0-0.conda": (digest(1), 10)]), options: options, published: published)
        #expect(plan.units.map(\.label) == ["ch/noarch/a:1.0-0"])
        #expect(plan.carried.keys.sorted() == ["b-2.0-0.conda"])
    }
}
