import Foundation
import Testing

/// `hoard verify` reads a store, live or not, without changing it; `--repair` needs it to itself.
@Suite(.serialized) struct VerifyTests {
    /// A store with three ingested blobs; `digests` in ingest order.
    struct Fixture {
        let root: String
        let digests: [String]

        init() async throws {
            root = NSTemporaryDirectory() + "hoard-verify-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: root + "-in", withIntermediateDirectories: true)
            var files: [String] = []
            for i in 0..<3 {
                let path = root + "-in/f\(i)"
                FileManager.default.createFile(atPath: path, contents: Data((0..<(40_000 + i)).map { UInt8(truncatingIfNeeded: $0 &* (7 + i)) }))
                files.append(path)
            }
            let (status, out, err) = try await HoardProcess.run(["ingest", "--root", root] + files)
            try #require(status == 0, "ingest failed: \(err)")
            digests = out.split(separator: "\n").map { String($0.split(separator: " ")[0].dropFirst("sha256:".count)) }
            try #require(digests.count == 3)
        }

        func blobPath(_ hex: String) -> String { "\(root)/blobs/sha256/\(hex.prefix(2))/\(hex)" }

        /// The index and its WAL, byte for byte (a read-only SQLite reader may create an empty
        /// WAL where there was none: that is no change to the index).
        func indexBytes() -> [Data] {
            ["index.db", "index.db-wal"].map { FileManager.default.contents(atPath: "\(root)/\($0)") ?? Data() }
        }

        func remove() {
            try? FileManager.default.removeItem(atPath: root)
            try? FileManager.default.removeItem(atPath: root + "-in")
        }
    }

    @Test func verifyBesideARunningServerReportsDamageAndChangesNothing() async throws {
        let store = try await Fixture()
        defer { store.remove() }
        let serve = try HoardProcess(["serve", "--root", store.root, "--port", "0"])
        defer { serve.process.terminate() }
        _ = try await serve.listeningPort()

        let clean = try await HoardProcess.run(["verify", "--root", store.root])
        #expect(clean.0 == 0, "verify beside serve failed:\n\(clean.1)\n\(clean.2)")
        #expect(clean.1.contains("verified 3 blobs") && clean.1.contains("store is clean"))

        // Damage it behind the server's back: one file deleted, one corrupted, one orphan planted.
        let (missing, corrupt) = (store.digests[0], store.digests[1])
        try FileManager.default.removeItem(atPath: store.blobPath(missing))
        let handle = try #require(FileHandle(forWritingAtPath: store.blobPath(corrupt)))
        try handle.write(contentsOf: Data("garbage".utf8))
        try handle.close()
        let orphanBytes = Data("an orphan: a complete blob the index does not name\n".utf8)
        let scratch = NSTemporaryDirectory() + "hoard-scratch-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        FileManager.default.createFile(atPath: scratch + "-file", contents: orphanBytes)
        defer { try? FileManager.default.removeItem(atPath: scratch + "-file") }
        let (_, scratchOut, _) = try await HoardProcess.run(["ingest", "--root", scratch, scratch + "-file"])
        let orphan = String(scratchOut.split(separator: " ")[0].dropFirst("sha256:".count))
        try FileManager.default.createDirectory(atPath: "\(store.root)/blobs/sha256/\(orphan.prefix(2))", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: store.blobPath(orphan), contents: orphanBytes)

        let before = store.indexBytes()
        for _ in 0..<2 {
            let (status, out, err) = try await HoardProcess.run(["verify", "--root", store.root])
            #expect(status == 1, "\(out)\n\(err)")
            #expect(out.contains("missing: 1\n  sha256:\(missing)"), "\(out)")
            #expect(out.contains("corrupt: 1\n  sha256:\(corrupt)"), "\(out)")
            #expect(out.contains("orphaned: 1\n  sha256:\(orphan)"), "\(out)")
        }
        // The second run found the same: the missing blob's row is still there, the orphan was
        // not adopted, and the index did not change by a byte.
        #expect(store.indexBytes() == before)
        #expect(FileManager.default.fileExists(atPath: store.blobPath(corrupt)))

        let repair = try await HoardProcess.run(["verify", "--root", store.root, "--repair"])
        #expect(repair.0 != 0)
        #expect(repair.2.contains("drop --repair"), "\(repair.2)")
        #expect(serve.process.isRunning)

        serve.signal(SIGTERM)
        #expect(try await serve.exitStatus(timeout: .seconds(15)) == 0)
    }

    @Test func verifyWithoutAServerRunsNoRecoveryAndCreatesNothing() async throws {
        let store = try await Fixture()
        defer { store.remove() }
        try FileManager.default.removeItem(atPath: store.blobPath(store.digests[2]))
        try FileManager.default.removeItem(atPath: store.root + "/tmp")
        try FileManager.default.removeItem(atPath: store.root + "/lock")
        let before = store.indexBytes()

        for _ in 0..<2 {
            let (status, out, _) = try await HoardProcess.run(["verify", "--root", store.root])
            #expect(status == 1)
            #expect(out.contains("missing: 1\n  sha256:\(store.digests[2])"), "\(out)")
        }
        #expect(store.indexBytes() == before)
        #expect(!FileManager.default.fileExists(atPath: store.root + "/tmp"))
        #expect(!FileManager.default.fileExists(atPath: store.root + "/lock"))

        let nowhere = NSTemporaryDirectory() + "hoard-none-" + UUID().uuidString
        let (status, _, err) = try await HoardProcess.run(["verify", "--root", nowhere])
        #expect(status != 0 && err.contains("no hoard store at \(nowhere)"))
        #expect(!FileManager.default.fileExists(atPath: nowhere))
    }
}

/// An unmounted blob volume must not wipe the index.
@Suite(.serialized) struct MissingBlobVolumeTests {
    @Test(arguments: [false, true]) func everyWritingCommandRefusesAMissingOrEmptyBlobDirectory(empty: Bool) async throws {
        let store = try await VerifyTests.Fixture()
        defer { store.remove() }
        try FileManager.default.removeItem(atPath: store.root + "/blobs")
        if empty { try FileManager.default.createDirectory(atPath: store.root + "/blobs", withIntermediateDirectories: false) }
        let before = store.indexBytes()

        let file = store.root + "-in/f0"
        for command in [["serve", "--port", "0"], ["gc", "--max-size", "1GB"], ["ingest", file], ["verify", "--repair"]] {
            // Not HoardProcess.run: a serve that wrongly starts must fail the test, not hang it.
            let process = try HoardProcess([command[0], "--root", store.root] + command.dropFirst())
            let status = try? await process.exitStatus(timeout: .seconds(20))
            let err = process.stderr
            #expect(status != nil && status != 0, "\(command) started")
            #expect(err.contains("the index names 3 blobs"), "\(command): \(err)")
            #expect(err.contains("may not be mounted") && err.contains("--accept-missing-blobs"), "\(command): \(err)")
        }
        #expect(store.indexBytes() == before)
        #expect(FileManager.default.fileExists(atPath: store.root + "/blobs") == empty)

        let serve = try HoardProcess(["serve", "--root", store.root, "--port", "0", "--accept-missing-blobs"])
        defer { serve.process.terminate() }
        _ = try await serve.listeningPort()
        serve.signal(SIGTERM)
        #expect(try await serve.exitStatus(timeout: .seconds(15)) == 0)
        #expect(serve.stderr.contains("missing_blobs=3"))
        let (status, out, _) = try await HoardProcess.run(["verify", "--root", store.root])
        #expect(status == 0 && out.contains("verified 0 blobs") && out.contains("store is clean"), "\(out)")
    }

    @Test func someLostBlobsAreOrdinaryDamageNotAMissingVolume() async throws {
        let store = try await VerifyTests.Fixture()
        defer { store.remove() }
        try FileManager.default.removeItem(atPath: store.blobPath(store.digests[0]))
        let (status, _, err) = try await HoardProcess.run(["gc", "--root", store.root, "--max-size", "1GB"])
        #expect(status == 0, "\(err)")
        #expect(err.contains("missing_blobs=1"))
    }
}
