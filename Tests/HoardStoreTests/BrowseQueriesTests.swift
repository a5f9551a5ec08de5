import Foundation
import Testing
@testable import HoardStore

/// The index queries behind the web page: what is held per subdir, which files of a page are
/// held, and which subdirs have repodata.
@Suite struct BrowseQueriesTests {
    @Test func summariesCountPackagesNotShardsAndOnlyBlobsStillHeld() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        let a = try await store.ingest(bytes: randomBytes(1000))
        let b = try await store.ingest(bytes: randomBytes(300))
        let shard = try await store.ingest(bytes: randomBytes(50))
        let gone = try await store.ingest(bytes: randomBytes(70))
        func name(_ subdir: String, _ file: String, label: String = "") -> CondaFileKey {
            CondaFileKey(channel: "ch", label: label, subdir: subdir, filename: file)
        }
        try await store.index.setCondaFile(name("noarch", "a-1-0.conda"), digest: a.digest)
        try await store.index.setCondaFile(name("noarch", "b-1-0.tar.bz2"), digest: b.digest)
        try await store.index.setCondaFile(name("noarch", "shards/\(shard.digest.hex).msgpack.zst"), digest: shard.digest)
        try await store.index.setCondaFile(name("linux-64", "c-1-0.conda", label: "dev"), digest: a.digest)
        try await store.index.setCondaFile(name("noarch", "gone-1-0.conda"), digest: gone.digest)
        try await store.remove([gone.digest])

        let summaries = try await store.index.condaSubdirSummaries()
        #expect(summaries == [
            CondaSubdirSummary(channel: "ch", label: "", subdir: "noarch", files: 2, bytes: 1300),
            CondaSubdirSummary(channel: "ch", label: "dev", subdir: "linux-64", files: 1, bytes: 1000),
        ])
        let held = try await store.index.condaFilesHeld(
            channel: "ch", label: "", subdir: "noarch", filenames: ["a-1-0.conda", "gone-1-0.conda", "missing-1-0.conda", "b-1-0.tar.bz2"])
        #expect(held == ["a-1-0.conda", "b-1-0.tar.bz2"])
        #expect(try await store.index.condaFilesHeld(channel: "ch", label: "", subdir: "noarch", filenames: []) == [])
        // Pages longer than one query's chunk.
        let many = (0..<1200).map { "x-\($0)-0.conda" } + ["a-1-0.conda"]
        #expect(try await store.index.condaFilesHeld(channel: "ch", label: "", subdir: "noarch", filenames: many) == ["a-1-0.conda"])
        #expect(try await store.index.condaFilesHeld(channel: "ch", label: "dev", subdir: "linux-64", filenames: ["c-1-0.conda"]) == ["c-1-0.conda"])
    }

    @Test func repodataSubdirsNameOnlyThatDocument() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        let doc = try await store.ingest(bytes: Array("{}".utf8))
        for (label, subdir, name) in [("", "noarch", "repodata.json"), ("", "linux-64", "repodata.json"),
                                      ("dev", "noarch", "repodata.json"), ("", "osx-64", "current_repodata.json")] {
            try await store.index.saveRepodata(RepodataRow(
                channel: "ch", label: label, subdir: subdir, name: name, digest: doc.digest, fetchedAt: 1, validatedAt: 1))
        }
        let subdirs = try await store.index.repodataSubdirs(channel: "ch", document: "repodata.json")
        #expect(subdirs.map { "\($0.label)/\($0.subdir)" } == ["/linux-64", "/noarch", "dev/noarch"])
        #expect(try await store.index.repodataSubdirs(channel: "other", document: "repodata.json").isEmpty)
    }
}
