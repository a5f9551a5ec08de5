import Foundation
import HoardConda
import HoardDigest
import HoardOCI
import Testing

@testable import HoardCondaOCI

func package(_ name: String, sha: UInt8 = 1, size: Int64 = 10, md5: String? = nil, timestamp: Double? = nil) throws -> CondaOCIPackage {
    CondaOCIPackage(
        filename: try CondaFilename(name), sha256: BlobDigest(bytes: [UInt8](repeating: sha, count: 32))!, size: size, md5: md5,
        timestampSeconds: timestamp)
}

@Suite struct CondaOCILayoutTests {
    @Test func groupsByTagCondaFirstAndReportsInvalidTags() throws {
        let packages = [
            try package("zlib-1.3.1-h0_2.tar.bz2", sha: 1),
            try package("zlib-1.3.1-h0_2.conda", sha: 2),
            try package("_libgcc_mutex-0.1-conda_forge.tar.bz2", sha: 3),
            try package("odd-1.0-" + String(repeating: "b", count: 130) + ".conda", sha: 4),
        ]
        let (groups, skipped) = CondaOCILayout.group(packages)
        #expect(groups.map { "\($0.component):\($0.tag.value)" } == ["zlib:1.3.1-h0_2", "zzz_libgcc_mutex:0.1-conda_forge"])
        #expect(groups[0].archives.map(\.filename.rawValue) == ["zlib-1.3.1-h0_2.conda", "zlib-1.3.1-h0_2.tar.bz2"])
        #expect(skipped.count == 1 && skipped[0].filename.hasPrefix("odd-1.0-"))
        #expect(skipped[0].reason.contains("cannot be an OCI tag"))
    }

    @Test func creationTimes() throws {
        // 2024-01-02 03:04:05 UTC in milliseconds, as modern repodata writes it.
        let p = try package("a-1-0.conda", timestamp: 1_704_164_645)
        #expect(CondaOCILayout.creationTime(of: [p]).value == "2024.01.02.03.04")
        #expect(CondaOCILayout.creationTime(of: [try package("a-1-0.conda", timestamp: 1e300)]).value == "1970.01.01.00.00")
        #expect(CondaOCILayout.creationTime(of: [try package("a-1-0.conda")]).value == "1970.01.01.00.00")
        #expect(
            CondaOCILayout.repodataCreationTime(upstreamLastModified: "Tue, 02 Jan 2024 03:04:05 GMT", fetchedAt: 0).value
                == "2024.01.02.03.04")
        #expect(CondaOCILayout.repodataCreationTime(upstreamLastModified: "garbage", fetchedAt: 86400).value == "1970.01.02.00.00")
        #expect(CondaOCILayout.shardCreationTime.value == "1970.01.01.00.00")
    }

    @Test func recordsThatCannotBeLayersAreSkippedWithAReason() {
        let sha = BlobDigest(bytes: [UInt8](repeating: 7, count: 32))!
        if case .failure(let skip) = CondaOCIPackage.from(filename: "a-1-0.conda", record: PackageDigest(sha256: nil, size: 3)) {
            #expect(skip.reason.contains("no sha256"))
        } else {
            Issue.record("a record without sha256 must be skipped")
        }
        if case .failure(let skip) = CondaOCIPackage.from(filename: "a-1-0.conda", record: PackageDigest(sha256: sha, size: UInt64.max)) {
            #expect(skip.reason.contains("not a possible file size"))
        } else {
            Issue.record("a size past Int64 must be skipped")
        }
        if case .success(let p) = CondaOCIPackage.from(filename: "a-1-0.conda", record: PackageDigest(sha256: sha, size: 3)) {
            #expect(p.size == 3 && p.sha256 == sha && p.md5 == nil)
        } else {
            Issue.record("a complete record is a package")
        }
    }
}
