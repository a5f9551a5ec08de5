import Foundation
import HoardConda
import HoardCondaOCI
import HoardDigest
import HoardOCI
import Testing
@testable import HoardServer

/// Repodata records whose numbers no file or date can have (issue 7, defect 2): they give no size
/// expectation and no OCI layer, and never trap the server.
@Suite struct OutOfRangeRecordTests {
    static let sha = BlobDigest(hex: String(repeating: "ab", count: 32))!

    @Test func aSizePastInt64GivesTheDigestButNoSize() throws {
        let huge = PackageExpectations.expectation(PackageDigest(sha256: Self.sha, size: .max))
        #expect(huge?.digest.hex == Self.sha.hex)
        #expect(huge?.size == nil)
        let edge = PackageExpectations.expectation(PackageDigest(sha256: Self.sha, size: UInt64(Int64.max)))
        #expect(edge?.size == .max)
        #expect(PackageExpectations.expectation(PackageDigest(sha256: Self.sha, size: 42))?.size == 42)
    }

    @Test func theMirrorLeavesOutARecordWithAnImpossibleSize() throws {
        let catalog = CondaMirrorCatalog(records: [
            "fx-app-1.0-0.conda": PackageDigest(sha256: Self.sha, size: .max, timestamp: 1_700_000_000_000),
        ])
        var skipped: [String] = []
        let group = CondaMirrorManifests.group(catalog, component: "fx-app", tag: "1.0-0") { skipped.append($0.filename) }
        #expect(group == nil)
        #expect(skipped == ["fx-app-1.0-0.conda"])
    }

    @Test(arguments: [UInt64.max, UInt64(Int64.max), 253_402_300_800_000, 0])
    func timestampsPastAnyCalendarStillGiveAManifest(timestamp: UInt64) throws {
        let catalog = CondaMirrorCatalog(records: [
            "fx-data-1.0-0.conda": PackageDigest(sha256: Self.sha, size: 10, timestamp: timestamp),
        ])
        let group = try #require(CondaMirrorManifests.group(catalog, component: "fx-data", tag: "1.0-0"))
        let info = CondaOCIInfoLayers(infoTarGz: CondaOCIBlob(digest: Self.sha, size: 1), indexJSON: CondaOCIBlob(digest: Self.sha, size: 1))
        let artifact = try CondaOCIManifests.package(channel: "c", subdir: "noarch", group: group, info: info)
        #expect(!artifact.manifest.bytes.isEmpty)
    }
}
