import Foundation
import Testing
@testable import HoardStore

@Suite struct EvictionTests {
    @Test func evictsLeastRecentlyUsedUnpinnedBlobsFirst() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        let a = try await store.ingest(bytes: randomBytes(1000))
        let b = try await store.ingest(bytes: randomBytes(1000))
        let c = try await store.ingest(bytes: randomBytes(1000))
        let pinned = try await store.ingest(bytes: randomBytes(1000), pinned: true)
        try await store.index.setCondaFile(CondaFileKey(channel: "ch", subdir: "noarch", filename: "a-1-0.conda"), digest: a.digest)
        // a is used last, b first: b goes, then c; the pinned blob is older than all of them.
        // Access times only move forward, so order them after the ingests' own times.
        let t = Date().timeIntervalSince1970 + 1000
        try await store.index.recordAccess([pinned.digest: t + 1, b.digest: t + 100, c.digest: t + 200, a.digest: t + 300])

        let report = try await Evictor(store: store, limit: ByteSize(bytes: 2500)).run()
        #expect(report.removedBlobs == 2)
        #expect(report.removedBytes == 2000)
        #expect(report.remainingBytes == 2000)
        #expect(try await !store.contains(b.digest))
        #expect(try await !store.contains(c.digest))
        #expect(try await store.contains(a.digest))
        #expect(try await store.contains(pinned.digest))
        #expect(try await store.blobs.size(of: b.digest) == nil)
        #expect(try await store.index.condaFile(CondaFileKey(channel: "ch", subdir: "noarch", filename: "a-1-0.conda")) == a.digest)

        // Evicting a blob removes the names that pointed at it.
        _ = try await Evictor(store: store, limit: ByteSize(bytes: 0)).run()
        #expect(try await store.index.condaFile(CondaFileKey(channel: "ch", subdir: "noarch", filename: "a-1-0.conda")) == nil)
        #expect(try await store.contains(pinned.digest))
    }

    @Test func readsCountAsUse() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        let old = try await store.ingest(bytes: randomBytes(100))
        try await Task.sleep(for: .milliseconds(20))
        let new = try await store.ingest(bytes: randomBytes(100))
        try await Task.sleep(for: .milliseconds(20))
        _ = try await store.open(old.digest)  // a read makes `old` the most recently used
        _ = try await Evictor(store: store, limit: ByteSize(bytes: 100)).run()
        #expect(try await store.contains(old.digest))
        #expect(try await !store.contains(new.digest))
    }

    @Test func parsesSizes() throws {
        #expect(try ByteSize(parsing: "50GB").bytes == 50_000_000_000)
        #expect(try ByteSize(parsing: "2GiB").bytes == 2 << 30)
        #expect(try ByteSize(parsing: "500M").bytes == 500 << 20)
        #expect(try ByteSize(parsing: "1.5 kb").bytes == 1500)
        #expect(try ByteSize(parsing: "123").bytes == 123)
        for bad in ["", "GB", "-1GB", "12 parsecs", "1e99TB"] {
            #expect(throws: StoreError.invalidSize(bad)) { try ByteSize(parsing: bad) }
        }
    }

    @Test func parsesDigests() throws {
        let hex = String(repeating: "ab", count: 32)
        #expect(try BlobDigest(parsing: "sha256:" + hex).hex == hex)
        #expect(try BlobDigest(parsing: hex).description == "sha256:" + hex)
        for bad in ["sha256:" + hex.uppercased(), "sha256:" + hex.dropLast(), "sha512:" + hex, "../../etc/passwd", hex + "0"] {
            #expect(throws: StoreError.invalidDigest(bad)) { try BlobDigest(parsing: bad) }
        }
    }
}

@Suite struct RecoveryTests {
    @Test func recoversFromACrashMidIngestAndMidCommit() async throws {
        let dir = TemporaryDirectory()
        let kept: BlobDigest
        let lost: BlobDigest
        let orphanBytes = randomBytes(4096)
        let orphan = BlobDigest.of(orphanBytes)
        do {
            let store = try await Store.open(root: dir.path)
            kept = try await store.ingest(bytes: randomBytes(2048)).digest
            lost = try await store.ingest(bytes: randomBytes(2048)).digest
            // A crash mid-ingest leaves a temp file; one between rename and row leaves an orphan;
            // a file deleted behind hoard's back leaves a row without a blob.
            FileManager.default.createFile(atPath: store.layout.ingestDirectory + "/deadbeef.part", contents: Data(randomBytes(1000)))
            try FileManager.default.createDirectory(atPath: store.layout.fanoutDirectory(orphan), withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: store.layout.blobPath(orphan), contents: Data(orphanBytes))
            try FileManager.default.removeItem(atPath: store.layout.blobPath(lost))
        }

        let store = try await Store.open(root: dir.path)
        #expect(filesIn(store.layout.ingestDirectory).isEmpty)
        #expect(try await store.index.blob(lost) == nil)
        #expect(try await store.index.blob(orphan)?.size == 4096)
        #expect(try await store.contains(kept))
        let report = try await Verifier(store: store).run(repair: false)
        #expect(!report.foundDamage)
        #expect(report.checkedBlobs == 2)
    }
}

@Suite struct VerifyTests {
    @Test func findsAndRepairsCorruptionAndForeignFiles() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        let good = try await store.ingest(bytes: randomBytes(50_000))
        let bad = try await store.ingest(bytes: randomBytes(50_000))
        try await store.index.setCondaFile(CondaFileKey(channel: "c", subdir: "noarch", filename: "x-1-0.conda"), digest: bad.digest)
        // Flip one byte of `bad` in place, as a failing disk would.
        let handle = try #require(FileHandle(forUpdatingAtPath: store.layout.blobPath(bad.digest)))
        try handle.seek(toOffset: 1234)
        let byte = try #require(try handle.read(upToCount: 1)).first!
        try handle.seek(toOffset: 1234)
        try handle.write(contentsOf: [byte ^ 0xff])
        try handle.close()
        try FileManager.default.createDirectory(atPath: store.layout.blobsDirectory + "/ab", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: store.layout.blobsDirectory + "/ab/not-a-blob", contents: Data([1]))

        let found = try await Verifier(store: store, parallelism: 3).run(repair: false)
        #expect(found.corrupt == [bad.digest])
        #expect(found.foreign.count == 1)
        #expect(found.foundDamage && !found.repaired)
        #expect(try await store.contains(bad.digest))  // reporting changes nothing

        let repaired = try await Verifier(store: store).run(repair: true)
        #expect(repaired.repaired)
        #expect(try await !store.contains(bad.digest))
        #expect(try await store.blobs.size(of: bad.digest) == nil)
        #expect(try await store.index.condaFile(CondaFileKey(channel: "c", subdir: "noarch", filename: "x-1-0.conda")) == nil)
        #expect(try await store.contains(good.digest))
        #expect(try await !Verifier(store: store).run(repair: false).foundDamage)
    }
}
