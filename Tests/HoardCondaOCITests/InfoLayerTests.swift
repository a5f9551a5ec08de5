import Foundation
import HoardConda
import HoardDigest
import Testing

@testable import HoardCondaOCI

@Suite struct PackageInfoTests {
    typealias File = TestArchive.File

    static let info = [
        File("info/index.json", TestArchive.indexJSON(name: "fx-lib", version: "1.0", build: "0")),
        File("info/about.json", #"{"license": "MIT"}"#),
        File("info/recipe/" + String(repeating: "long-directory-name/", count: 8) + "meta.yaml", "package: {}"),
        File("info/test/run_test.sh", "#!/bin/sh\n", mode: 0o755),
        File("info/licenses/LICENSE", symlink: "../about.json"),
    ]
    static let pkg = [File("lib/fx.txt", "payload"), File("../escape/info/x", "no")]

    func read(_ bytes: [UInt8], _ name: String) throws -> [PackageInfoEntry] {
        let filename = try CondaFilename(name)
        return try bytes.withUnsafeBytes { raw in try PackageInfoReader.read(raw, filename: filename) }
    }

    @Test func bothFormatsGiveTheSameInfoAndTheSameTarball() throws {
        let conda = try read(TestArchive.conda(stem: "fx-lib-1.0-0", info: Self.info, pkg: Self.pkg), "fx-lib-1.0-0.conda")
        let tarBz2 = try read(TestArchive.tarBz2(info: Self.info, pkg: Self.pkg), "fx-lib-1.0-0.tar.bz2")
        #expect(conda == tarBz2)
        #expect(conda.map(\.path) == Self.info.map(\.path).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        #expect(conda.first { $0.path == "info/test/run_test.sh" }?.content == .file(Array("#!/bin/sh\n".utf8), executable: true))
        #expect(conda.first { $0.path == "info/licenses/LICENSE" }?.content == .symlink(target: "../about.json"))
        #expect(try InfoTarball.make(conda) == InfoTarball.make(tarBz2))
    }

    @Test func theTarballIsReproducibleAndNormalized() throws {
        let entries = try read(TestArchive.tarBz2(info: Self.info, pkg: Self.pkg), "fx-lib-1.0-0.tar.bz2")
        let first = try InfoTarball.make(entries)
        // Order of the input and the archive's own times and owners do not matter.
        let second = try InfoTarball.make(entries.reversed())
        #expect(first == second)
        // gzip: magic, deflate, and a zero MTIME field (bytes 4..<8): no clock in the bytes.
        #expect(Array(first[0..<3]) == [0x1F, 0x8B, 0x08] && Array(first[4..<8]) == [0, 0, 0, 0])
        let back = TestArchive.entries(first)
        #expect(back.map(\.path) == entries.map(\.path))
        for entry in back {
            #expect(entry.uid == 0 && entry.mtime == 0 && (entry.uname ?? "").isEmpty, "\(entry.path)")
        }
        #expect(back.first { $0.path == "info/index.json" }?.bytes == Array(TestArchive.indexJSON(name: "fx-lib", version: "1.0", build: "0").utf8))
        #expect(back.first { $0.path == "info/test/run_test.sh" }.map { $0.mode & 0o777 } == 0o755)
        #expect(back.first { $0.path == "info/about.json" }.map { $0.mode & 0o777 } == 0o644)
        #expect(back.first { $0.path == "info/licenses/LICENSE" }?.symlink == "../about.json")
    }

    @Test func pathsOutsideInfoAreLeftOut() {
        #expect(PackageInfoEntry.normalizedInfoPath("./info/index.json") == "info/index.json")
        #expect(PackageInfoEntry.normalizedInfoPath("/info//a") == "info/a")
        #expect(PackageInfoEntry.normalizedInfoPath("info/../etc/passwd") == nil)
        #expect(PackageInfoEntry.normalizedInfoPath("info") == nil)
        #expect(PackageInfoEntry.normalizedInfoPath("lib/info/x") == nil)
    }

    @Test func brokenArchivesAreErrorsNotCrashes() throws {
        #expect(throws: PackageInfoError.self) { try read(Array("not a zip".utf8), "a-1-0.conda") }
        #expect(throws: PackageInfoError.self) { try read([], "a-1-0.tar.bz2") }
        // A .conda whose info member is garbage, and one without info/index.json.
        let garbage = TestArchive.archive([File("info-a-1-0.tar.zst", "garbage")], format: .zip)
        #expect(throws: PackageInfoError.self) { try read(garbage, "a-1-0.conda") }
        let noIndex = TestArchive.conda(stem: "a-1-0", info: [File("info/about.json", "{}")], pkg: [])
        #expect(throws: PackageInfoError.noIndexJSON(filename: "a-1-0.conda")) { try read(noIndex, "a-1-0.conda") }
        // Truncated halfway.
        let whole = TestArchive.tarBz2(info: Self.info, pkg: Self.pkg)
        #expect(throws: PackageInfoError.self) { try read(Array(whole[0..<(whole.count / 2)]), "fx-lib-1.0-0.tar.bz2") }
    }

    @Test func indexJSONGetsASubdirOnlyWhenItLacksOne() throws {
        let with = Array(TestArchive.indexJSON(name: "a", version: "1", build: "0", subdir: "linux-64").utf8)
        #expect(try InfoIndexJSON.layer(with, subdir: "noarch", filename: "a") == with)
        let without = Array(TestArchive.indexJSON(name: "a", version: "1", build: "0", subdir: nil).utf8)
        let added = try InfoIndexJSON.layer(without, subdir: "noarch", filename: "a")
        let object = try JSONSerialization.jsonObject(with: Data(added)) as? [String: Any]
        #expect(object?["subdir"] as? String == "noarch" && object?["name"] as? String == "a")
        #expect(String(decoding: added, as: UTF8.self).hasPrefix(String(decoding: without.dropLast(2), as: UTF8.self)))
        #expect(String(decoding: try InfoIndexJSON.layer(Array("{}".utf8), subdir: "x", filename: "a"), as: UTF8.self) == #"{"subdir": "x"}"#)
        #expect(throws: PackageInfoError.self) { try InfoIndexJSON.layer(Array("[1]".utf8), subdir: "x", filename: "a") }
        #expect(throws: PackageInfoError.self) { try InfoIndexJSON.layer(Array("{".utf8), subdir: "x", filename: "a") }
    }
}
