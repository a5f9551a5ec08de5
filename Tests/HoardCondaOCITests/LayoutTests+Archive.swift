import Foundation
import HoardConda
import HoardDigest
import HoardStore
import NIOPosix
import Testing

@testable import HoardCondaOCI

@Suite struct LayoutArchiveTests {
    typealias Entry = LayoutTarReader.Entry

    @Test func onlyTheLayoutsOwnPathsAreAccepted() throws {
        let hex = String(repeating: "ab", count: 32)
        #expect(try LayoutImporter.classify("oci-layout", Entry(name: "", type: 0o100000, size: 30)) == .layoutFile)
        #expect(try LayoutImporter.classify("index.json", Entry(name: "", type: 0o100000, size: 30)) == .index)
        #expect(try LayoutImporter.classify("blobs/sha256/", Entry(name: "", type: 0o040000, size: 0)) == .directory)
        #expect(try LayoutImporter.classify("blobs/sha256/" + hex, Entry(name: "", type: 0o100000, size: 1)) == .blob(BlobDigest(hex: hex)!))
        for bad in [
            "../evil", "/etc/passwd", "blobs/sha256/" + hex.uppercased(), "blobs/sha512/" + hex, "blobs/sha256/../../x", "refs/latest",
            "blobs/sha256/" + hex + "/x",
        ] {
            #expect(throws: LayoutError.pathOutsideLayout(bad), "\(bad)") { try LayoutImporter.classify(bad, Entry(name: bad, type: 0o100000, size: 1)) }
        }
        // Links and directories where a blob belongs are refused too.
        #expect(throws: LayoutError.self) { try LayoutImporter.classify("blobs/sha256/" + hex, Entry(name: "", type: 0o120000, size: 0)) }
        #expect(throws: LayoutError.self) { try LayoutImporter.classify("blobs/sha256/" + hex, Entry(name: "", type: 0, size: 0)) }
        #expect(throws: LayoutError.self) { try LayoutImporter.classify("oci-layout", Entry(name: "", type: 0o040000, size: 0)) }
    }

    @Test func exportThenImportRebuildsTheStoreAndIsIdempotent() async throws {
        let base = NSTemporaryDirectory() + "hoard-layout-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: base) }
        let archive = base + "/out.tar"
        let (sourceFiles, sourceDocument, sourceInfo): ([CondaFileRow], RepodataRow?, [CondaInfoLayersRow]) = try await {
            let store = try await Store.open(root: base + "/a")
            let bytes = InfoLayerStoreTests.archive()
            let record = try await store.ingest(bytes: bytes)
            let repodata = """
                {"info": {"subdir": "noarch"}, "packages": {}, "packages.conda": {"fx-lib-1.0-0.conda": {"sha256": "\(record.digest.hex)", "size": \(bytes.count), "timestamp": 1700000000000}}}
                """
            let doc = try await store.ingest(bytes: Array(repodata.utf8))
            try await store.index.saveRepodata(
                RepodataRow(channel: "fixture", label: "", subdir: "noarch", name: "repodata.json", digest: doc.digest, fetchedAt: 5, validatedAt: 6))
            try await store.index.setCondaFile(CondaFileKey(channel: "fixture", subdir: "noarch", filename: "fx-lib-1.0-0.conda"), digest: record.digest)
            let summary = try await LayoutExporter(artifacts: StoreArtifacts(store: store, worker: .singleton)).export(channels: [], to: archive)
            #expect(summary.channels == ["fixture"] && summary.references == 4)  // package, repodata x2 tags, store index
            return (
                try await store.index.condaFiles(channel: "fixture"),
                try await store.index.repodata(channel: "fixture", label: "", subdir: "noarch", name: "repodata.json"),
                try await store.index.allCondaInfoLayers()
            )
        }()
        let target = try await Store.open(root: base + "/b")
        let importer = LayoutImporter(store: target, worker: .singleton)
        let first = try await importer.importArchive(archive)
        #expect(first.newBlobs == first.blobs && first.files == 1 && first.documents == 1 && first.manifests == 4)
        #expect(try await target.index.condaFiles(channel: "fixture") == sourceFiles)
        #expect(try await target.index.repodata(channel: "fixture", label: "", subdir: "noarch", name: "repodata.json") == sourceDocument)
        #expect(try await target.index.allCondaInfoLayers() == sourceInfo)
        let totals = try await target.totals()
        let second = try await importer.importArchive(archive)
        #expect(second.newBlobs == 0)
        #expect(try await target.totals() == totals)
    }
}
