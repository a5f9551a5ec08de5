import Foundation
import Testing

@testable import HoardOCI

@Suite struct CondaNamingTests {
    @Test func pinnedExample() throws {
        // conda-oci-mirror tests: `_lib:1!2.0+local-build=1` → `zzz_lib:1__e__2.0__p__local-build__eq__1`.
        #expect(CondaOCINaming.repositoryComponent(forPackage: "_lib") == "zzz_lib")
        let tag = try CondaOCINaming.tag(versionBuild: "1!2.0+local-build=1")
        #expect(tag.value == "1__e__2.0__p__local-build__eq__1")
        #expect(CondaOCINaming.versionBuild(fromTag: tag.value) == "1!2.0+local-build=1")
        #expect(CondaOCINaming.packageName(fromRepositoryComponent: "zzz_lib") == "_lib")
        #expect(CondaOCINaming.packageName(fromRepositoryComponent: "zlib") == "zlib")
    }

    @Test func filenames() throws {
        let ref = try CondaOCINaming.packageReference(
            prefix: "channel-mirrors", channel: "conda-forge", subdir: "linux-64", filename: "zlib-1.2.11-h36c2ea0_1013.tar.bz2")
        #expect(ref.repository.value == "channel-mirrors/conda-forge/linux-64/zlib")
        #expect(ref.tag.value == "1.2.11-h36c2ea0_1013")
        #expect(ref.archiveMediaType == "application/vnd.conda.package.v1")

        let mutex = try CondaOCINaming.packageReference(channel: "conda-forge", subdir: "linux-64", filename: "_libgcc_mutex-0.1-conda_forge.conda")
        #expect(mutex.repository.value == "conda-forge/linux-64/zzz_libgcc_mutex" && mutex.tag.value == "0.1-conda_forge")
        #expect(mutex.archiveMediaType == CondaOCINaming.MediaType.packageConda)

        let f = try CondaOCINaming.PackageFilename("python-dateutil-2.9.0.post0-pyhd8ed1ab_0.conda")
        #expect(f.name == "python-dateutil" && f.version == "2.9.0.post0" && f.build == "pyhd8ed1ab_0" && f.format == .conda)
        #expect(f.description == "python-dateutil-2.9.0.post0-pyhd8ed1ab_0.conda")
        #expect(
            CondaOCINaming.packageFilename(repositoryComponent: "zzz_lib", tag: "1__e__2.0__p__local-build__eq__1", format: .conda)
                == "_lib-1!2.0+local-build=1.conda")

        for bad in ["zlib.conda", "zlib-1.2.conda", "zlib-1.2-h.zip", "-1-2.conda", "a/b-1-2.conda"] {
            #expect(throws: CondaOCINamingError.self, "\(bad)") { try CondaOCINaming.PackageFilename(bad) }
        }
        // Tags that stay invalid after escaping are refused (conda-oci-mirror skips them).
        #expect(throws: CondaOCINamingError.self) { try CondaOCINaming.tag(version: "1.0", build: "has space") }
        #expect(throws: CondaOCINamingError.self) { try CondaOCINaming.tag(version: "1.0", build: "a*b") }
        #expect(throws: CondaOCINamingError.self) { try CondaOCINaming.tag(version: String(repeating: "1", count: 125), build: "h_0") }
        #expect(throws: CondaOCINamingError.self) { try CondaOCINaming.tag(version: ".1", build: "0") }
    }

    @Test func repodataNaming() throws {
        #expect(try CondaOCINaming.repodataRepository(channel: "conda-forge", subdir: "noarch").value == "conda-forge/noarch/repodata.json")
        #expect(
            try CondaOCINaming.repodataRepository(prefix: "channel-mirrors", channel: "conda-forge", subdir: "noarch").value
                == "channel-mirrors/conda-forge/noarch/repodata.json")
        #expect(try CondaOCINaming.shardRepository(channel: "c", subdir: "linux-64").value == "c/linux-64/repodata.json/shards")
        #expect(CondaOCINaming.repodataTag.value == "latest")
        let t = CondaCreationTime(Date(timeIntervalSince1970: 1_791_797_400))  // 2026-10-12T09:30:00Z
        #expect(t.value == "2026.10.12.09.30")
        #expect(CondaOCINaming.repodataSnapshotTag(t).value == "2026.10.12.09.30")
        #expect(throws: CondaOCINamingError.self) { try CondaOCINaming.repodataRepository(channel: "Bad", subdir: "x") }
    }
}

@Suite struct CondaManifestBuilderTests {
    let archiveDigest = try! OCIDigest(parsing: "sha256:" + String(repeating: "1", count: 64))
    let time = CondaCreationTime(Date(timeIntervalSince1970: 1_791_797_400))
    var archive: CondaManifestBuilder.Archive {
        .init(filename: "zlib-1.3.1-hb9d3cd8_2.conda", blob: .init(digest: archiveDigest, size: 123_456), md5: String(repeating: "e", count: 32))
    }

    @Test func packageManifestShapeAndStability() throws {
        let built = try CondaManifestBuilder.packageManifest(archives: [archive], creationTime: time)
        let again = try CondaManifestBuilder.packageManifest(archives: [archive], creationTime: time)
        #expect(built.bytes == again.bytes && built.digest == again.digest)
        #expect(built.digest == OCIDigest.compute(of: built.bytes))
        let text = String(decoding: built.bytes, as: UTF8.self)
        #expect(
            text
                == #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.unknown.config.v1+json","size":0,"digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},"layers":[{"mediaType":"application/vnd.conda.package.v2","size":123456,"digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","annotations":{"org.conda.md5":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","creationTime":"2026.10.12.09.30","org.opencontainers.image.title":"zlib-1.3.1-hb9d3cd8_2.conda"}}],"annotations":{}}"#
        )
        // It parses as a valid manifest; the archive layer is the repodata sha256.
        let m = try Manifest.parse(built.bytes, contentType: OCIMediaType.imageManifest)
        #expect(m.layers.map(\.digest) == [archiveDigest])
        #expect(m.config == CondaManifestBuilder.emptyConfig)
        #expect(m.declaredArtifactType == nil && m.subject == nil)

        // Another creation time gives other bytes.
        let later = try CondaManifestBuilder.packageManifest(archives: [archive], creationTime: CondaCreationTime(verbatim: "2026.10.12.09.31"))
        #expect(later.digest != built.digest)
    }

    @Test func packageManifestWithInfoLayersAndBothFormats() throws {
        let tgz = CondaManifestBuilder.Blob(digest: try OCIDigest(parsing: "sha256:" + String(repeating: "2", count: 64)), size: 9876)
        let idx = CondaManifestBuilder.Blob(digest: try OCIDigest(parsing: "sha256:" + String(repeating: "3", count: 64)), size: 321)
        var other = archive
        other.filename = "zlib-1.3.1-hb9d3cd8_2.tar.bz2"
        other.blob = .init(digest: try OCIDigest(parsing: "sha256:" + String(repeating: "4", count: 64)), size: 200_000)
        let built = try CondaManifestBuilder.packageManifest(
            archives: [archive, other], info: .init(infoTarGz: tgz, indexJSON: idx), creationTime: time)
        let m = try Manifest.parse(built.bytes)
        #expect(
            m.layers.map(\.mediaType) == [
                "application/vnd.conda.package.v2", "application/vnd.conda.package.v1",
                "application/vnd.conda.info.v1.tar+gzip", "application/vnd.conda.info.index.v1+json",
            ])
        #expect(m.layers[2].annotations == ["creationTime": "2026.10.12.09.30", "org.opencontainers.image.title": "zlib-1.3.1-hb9d3cd8_2/info.tar.gz"])
        #expect(m.layers[3].annotations?["org.opencontainers.image.title"] == "zlib-1.3.1-hb9d3cd8_2/info/index.json")
        #expect(m.layers[1].annotations?["org.conda.md5"] != nil && m.layers[2].annotations?["org.conda.md5"] == nil)
        #expect(throws: CondaManifestError.noArchive) { try CondaManifestBuilder.packageManifest(archives: [], creationTime: time) }
        var badMD5 = archive
        badMD5.md5 = "XYZ"
        #expect(throws: CondaManifestError.md5Invalid("XYZ")) { try CondaManifestBuilder.packageManifest(archives: [badMD5], creationTime: time) }
    }

    @Test func repodataAndShardManifests() throws {
        let json = CondaManifestBuilder.Blob(digest: try OCIDigest(parsing: "sha256:" + String(repeating: "5", count: 64)), size: 1000)
        let zst = CondaManifestBuilder.Blob(digest: try OCIDigest(parsing: "sha256:" + String(repeating: "6", count: 64)), size: 100)
        let shards = CondaManifestBuilder.Blob(digest: try OCIDigest(parsing: "sha256:" + String(repeating: "7", count: 64)), size: 50)
        let a = CondaManifestBuilder.repodataManifest(json: json, zst: zst, shardIndex: shards, creationTime: time)
        let b = CondaManifestBuilder.repodataManifest(json: json, zst: zst, shardIndex: shards, creationTime: time)
        #expect(a == b)
        let m = try Manifest.parse(a.bytes)
        #expect(m.layers.map(\.mediaType) == [
            CondaOCINaming.MediaType.repodataJSON, CondaOCINaming.MediaType.repodataJSONZst, CondaOCINaming.MediaType.shardIndex,
        ])
        #expect(m.layers.compactMap { $0.annotations?["org.opencontainers.image.title"] } == [
            "repodata.json", "repodata.json.zst", "repodata_shards.msgpack.zst",
        ])
        let jsonOnly = CondaManifestBuilder.repodataManifest(json: json, creationTime: time)
        #expect(try Manifest.parse(jsonOnly.bytes).layers.count == 1)
        #expect(jsonOnly.digest != a.digest)

        let shard = CondaManifestBuilder.shardManifest(shard: shards, creationTime: time)
        let sm = try Manifest.parse(shard.bytes)
        #expect(sm.layers[0].annotations?["org.opencontainers.image.title"] == "shards/\(String(repeating: "7", count: 64)).msgpack.zst")
        #expect(sm.layers[0].mediaType == "application/vnd.conda.repodata.shard.v1+msgpack+zst")
    }
}
