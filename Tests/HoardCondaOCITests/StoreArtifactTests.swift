import Foundation
import HoardConda
import HoardDigest
import HoardOCI
import HoardStore
import NIOPosix
import Synchronization
import Testing

@testable import HoardCondaOCI

@Suite struct InfoLayerStoreTests {
    typealias File = TestArchive.File

    static func withStore<T>(_ body: (Store) async throws -> T) async throws -> T {
        let root = NSTemporaryDirectory() + "hoard-condaoci-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try await Store.open(root: root)
        return try await body(store)
    }

    static func archive(subdir: String? = "noarch") -> [UInt8] {
        TestArchive.conda(
            stem: "fx-lib-1.0-0",
            info: [File("info/index.json", TestArchive.indexJSON(name: "fx-lib", version: "1.0", build: "0", subdir: subdir)), File("info/about.json", "{}")],
            pkg: [File("lib/a", "a")])
    }

    static func package(_ bytes: [UInt8]) throws -> CondaOCIPackage {
        CondaOCIPackage(
            filename: try CondaFilename("fx-lib-1.0-0.conda"), sha256: BlobDigest.of(bytes), size: Int64(bytes.count),
            md5: "0123456789abcdef0123456789abcdef", timestampSeconds: 1_700_000_000)
    }

    @Test func layersAreMadeOnceKeptAndMadeAgainToTheSameDigest() async throws {
        try await Self.withStore { store in
            let bytes = Self.archive(subdir: nil)
            let package = try Self.package(bytes)
            let layers = InfoLayerStore(store: store, worker: .singleton)
            #expect(try await layers.known(package, subdir: "noarch") == nil)
            // Not in the store and nothing to fetch with: a clear error, nothing recorded.
            await #expect(throws: CondaOCIError.self) { try await layers.layers(package, subdir: "noarch") }

            let fetches = Atomic<Int>(0)
            let made = try await layers.layers(package, subdir: "noarch") { p in
                fetches.add(1, ordering: .relaxed)
                try await store.ingest(bytes: bytes, expectedDigest: p.sha256)
            }
            #expect(fetches.load(ordering: .relaxed) == 1)
            #expect(try await layers.known(package, subdir: "noarch") == made)
            // The index.json layer is the package's, with the subdir it lacked.
            let index = try await store.open(made.indexJSON.digest).readAll(limit: 1 << 20)
            let object = try JSONSerialization.jsonObject(with: Data(index)) as? [String: Any]
            #expect(object?["subdir"] as? String == "noarch")
            let tarGz = try await store.open(made.infoTarGz.digest).readAll(limit: 1 << 20)
            #expect(TestArchive.entries(tarGz).map(\.path) == ["info/about.json", "info/index.json"])

            // Evicted layers: the record stays, and they are made again to the same digests.
            try await store.remove([made.infoTarGz.digest, made.indexJSON.digest])
            #expect(try await layers.known(package, subdir: "noarch") == made)
            let rows = try await layers.rows(naming: made.infoTarGz.digest)
            #expect(rows.count == 1)
            try await layers.restore(rows[0], package: package)
            let tarGzBack = try await store.contains(made.infoTarGz.digest)
            let indexBack = try await store.contains(made.indexJSON.digest)
            #expect(tarGzBack && indexBack)
            #expect(fetches.load(ordering: .relaxed) == 1)
        }
    }

    @Test func aBrokenArchiveIsAnErrorAndRecordsNothing() async throws {
        try await Self.withStore { store in
            let bytes = Array("not a conda archive".utf8)
            try await store.ingest(bytes: bytes)
            let package = try Self.package(bytes)
            let layers = InfoLayerStore(store: store, worker: .singleton)
            await #expect(throws: CondaOCIError.self) { try await layers.layers(package, subdir: "noarch") }
            #expect(try await layers.known(package, subdir: "noarch") == nil)
        }
    }

    @Test func thePlanListsWhatTheStoreHolds() async throws {
        try await Self.withStore { store in
            let bytes = Self.archive()
            let record = try await store.ingest(bytes: bytes)
            let sha = record.digest.hex
            let repodata = """
                {"info": {"subdir": "noarch"}, "packages": {"fx-lib-1.0-0.tar.bz2": {"sha256": "\(String(repeating: "b", count: 64))", "size": 5}},
                 "packages.conda": {"fx-lib-1.0-0.conda": {"sha256": "\(sha)", "size": \(bytes.count), "md5": "0123456789abcdef0123456789abcdef", "timestamp": 1700000000000},
                                    "fx-lib-2.0-0.conda": {"sha256": "\(String(repeating: "c", count: 64))", "size": 5}}}
                """
            let doc = try await store.ingest(bytes: Array(repodata.utf8))
            try await store.index.saveRepodata(
                RepodataRow(
                    channel: "fixture", label: "", subdir: "noarch", name: "repodata.json", digest: doc.digest, servedDigest: nil, zstDigest: nil,
                    upstreamLastModified: "Tue, 14 Nov 2023 22:13:20 GMT", fetchedAt: 1, validatedAt: 1))
            try await store.index.setCondaFile(CondaFileKey(channel: "fixture", subdir: "noarch", filename: "fx-lib-1.0-0.conda"), digest: record.digest)
            // A file whose bytes are not the record's is skipped with the reason.
            let other = try await store.ingest(bytes: Array("other".utf8))
            try await store.index.setCondaFile(CondaFileKey(channel: "fixture", subdir: "noarch", filename: "fx-lib-2.0-0.conda"), digest: other.digest)

            let artifacts = StoreArtifacts(store: store, worker: .singleton)
            #expect(try await artifacts.subdirs(channel: "fixture") == ["noarch"])
            let plan = try await artifacts.plan(channel: "fixture", subdir: "noarch")
            #expect(plan.packages.map(\.path) == ["fixture/noarch/fx-lib"])
            #expect(plan.packages[0].tags.map(\.value) == ["1.0-0"])
            #expect(plan.packages[0].layers.map(\.mediaType) == [
                CondaOCINaming.MediaType.packageConda, CondaOCINaming.MediaType.infoTarGz, CondaOCINaming.MediaType.infoIndexJSON,
            ])
            #expect(plan.skipped.map(\.filename) == ["fx-lib-2.0-0.conda"])
            #expect(plan.partial == ["fx-lib:1.0-0"])
            #expect(plan.repodata?.tags.map(\.value) == ["latest", "2023.11.14.22.13"])
            #expect(plan.repodata?.layers.map(\.digest) == [doc.digest])
            #expect(plan.artifacts.last?.kind == .repodata)

            // The same manifest from the pure builder with the recorded layers: one digest.
            let info = try #require(try await artifacts.info.known(try Self.package(bytes), subdir: "noarch"))
            let group = CondaOCILayout.group([
                CondaOCIPackage(filename: try CondaFilename("fx-lib-1.0-0.conda"), sha256: record.digest, size: Int64(bytes.count),
                                md5: "0123456789abcdef0123456789abcdef", timestampSeconds: 1_700_000_000)
            ]).groups[0]
            let again = try CondaOCIManifests.package(channel: "fixture", subdir: "noarch", group: group, info: info)
            #expect(again.manifest == plan.packages[0].manifest)
        }
    }
}

@Suite struct CondaOCIManifestTests {
    @Test func packageArtifactShape() throws {
        let conda = try package("zlib-1.3.1-h0_2.conda", sha: 1, size: 100, md5: "0123456789abcdef0123456789abcdef", timestamp: 1_704_164_645)
        let bz2 = try package("zlib-1.3.1-h0_2.tar.bz2", sha: 2, size: 200)
        let group = CondaOCILayout.group([bz2, conda]).groups[0]
        let info = CondaOCIInfoLayers(
            infoTarGz: CondaOCIBlob(digest: BlobDigest(bytes: [UInt8](repeating: 3, count: 32))!, size: 30),
            indexJSON: CondaOCIBlob(digest: BlobDigest(bytes: [UInt8](repeating: 4, count: 32))!, size: 40))
        let artifact = try CondaOCIManifests.package(channel: "conda-forge", subdir: "linux-64", group: group, info: info)
        #expect(try artifact.repository(prefix: "channel-mirrors").value == "channel-mirrors/conda-forge/linux-64/zlib")
        #expect(artifact.layers.map(\.title) == [
            "zlib-1.3.1-h0_2.conda", "zlib-1.3.1-h0_2.tar.bz2", "zlib-1.3.1-h0_2/info.tar.gz", "zlib-1.3.1-h0_2/info/index.json",
        ])
        let json = try JSONSerialization.jsonObject(with: Data(artifact.manifest.bytes)) as? [String: Any]
        #expect(json?["artifactType"] == nil && json?["subject"] == nil)
        let layers = json?["layers"] as? [[String: Any]] ?? []
        #expect(layers.count == 4)
        #expect((layers[0]["annotations"] as? [String: String])?["org.conda.md5"] == "0123456789abcdef0123456789abcdef")
        #expect((layers[1]["annotations"] as? [String: String])?["org.conda.md5"] == nil)
        for layer in layers {
            let annotations = layer["annotations"] as? [String: String] ?? [:]
            #expect(annotations["creationTime"] == "2024.01.02.03.04" && annotations["org.opencontainers.image.title"] != nil)
        }
        #expect(artifact.manifest.digest == OCIDigest.compute(.sha256, of: artifact.manifest.bytes))
    }

    @Test func repodataAndShardArtifacts() throws {
        let blob = { (b: UInt8, size: Int64) in CondaOCIBlob(digest: BlobDigest(bytes: [UInt8](repeating: b, count: 32))!, size: size) }
        let time = CondaOCILayout.repodataCreationTime(upstreamLastModified: "Tue, 02 Jan 2024 03:04:05 GMT", fetchedAt: 0)
        let repodata = CondaOCIManifests.repodata(
            channel: "c", subdir: "noarch", json: blob(1, 10), zst: blob(2, 5), shardIndex: blob(3, 4), creationTime: time)
        #expect(repodata.path == "c/noarch/repodata.json" && repodata.tags.map(\.value) == ["latest", "2024.01.02.03.04"])
        #expect(repodata.layers.map(\.title) == ["repodata.json", "repodata.json.zst", "repodata_shards.msgpack.zst"])
        #expect(repodata.layers.map(\.mediaType).last == CondaOCINaming.MediaType.shardIndex)
        let shard = CondaOCIManifests.shard(channel: "c", subdir: "noarch", shard: blob(5, 7))
        #expect(shard.path == "c/noarch/repodata.json/shards" && shard.tags.map(\.value) == [String(repeating: "05", count: 32)])
        #expect(shard.layers.map(\.title) == ["shards/\(String(repeating: "05", count: 32)).msgpack.zst"])
        // A shard's manifest depends on the shard alone.
        #expect(shard.manifest == CondaOCIManifests.shard(channel: "other", subdir: "linux-64", shard: blob(5, 7)).manifest)
    }
}
