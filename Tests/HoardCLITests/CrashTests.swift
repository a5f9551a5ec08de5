import Foundation
import Testing

@Suite(.serialized) struct CrashTests {
    /// A SIGKILL in the middle of a large ingest, then a restart, leaves `hoard verify` clean and
    /// the store holding exactly what was committed.
    @Test func sigkillMidIngestLeavesAValidStore() async throws {
        let root = NSTemporaryDirectory() + "hoard-crash-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try await HoardProcess.run(["ingest", "--root", root, HoardBinary.path])
        #expect(first.0 == 0)

        let input = Pipe()
        let ingest = try HoardProcess(["ingest", "--root", root, "-"], stdin: input)
        let chunk = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let ingestDirectory = root + "/tmp/ingest"
        var written = 0
        // Feed 64 MiB, then kill while the temp file is half written and the pipe still open.
        while written < 64 {
            try input.fileHandleForWriting.write(contentsOf: chunk)
            written += 1
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while (try? FileManager.default.contentsOfDirectory(atPath: ingestDirectory))?.isEmpty ?? true, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: ingestDirectory)).isEmpty)
        ingest.signal(SIGKILL)
        _ = try await ingest.exitStatus()
        try? input.fileHandleForWriting.close()

        let (status, report, stderr) = try await HoardProcess.run(["verify", "--root", root])
        #expect(status == 0, "verify failed:\n\(report)\n\(stderr)")
        #expect(report.contains("verified 1 blobs"))
        #expect(report.contains("store is clean"))
        // verify only reads: the leftover stays for the next start's recovery.
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: ingestDirectory)).isEmpty)
        let (repairStatus, _, repairLog) = try await HoardProcess.run(["verify", "--root", root, "--repair"])
        #expect(repairStatus == 0)
        #expect(repairLog.contains("leftover_temp_files=1"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: ingestDirectory).isEmpty)
    }

    @Test func verifyExitsNonZeroOnDamageUntilRepaired() async throws {
        let root = NSTemporaryDirectory() + "hoard-damage-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (_, out, _) = try await HoardProcess.run(["ingest", "--root", root, HoardBinary.path])
        let hex = String(out.split(separator: " ")[0].dropFirst("sha256:".count))
        let blob = "\(root)/blobs/sha256/\(hex.prefix(2))/\(hex)"
        let handle = try #require(FileHandle(forWritingAtPath: blob))
        try handle.write(contentsOf: Data("garbage".utf8))
        try handle.close()

        let damaged = try await HoardProcess.run(["verify", "--root", root])
        #expect(damaged.0 == 1)
        #expect(damaged.1.contains("corrupt: 1"))
        let repaired = try await HoardProcess.run(["verify", "--root", root, "--repair"])
        #expect(repaired.0 == 0)
        #expect(!FileManager.default.fileExists(atPath: blob))
        let clean = try await HoardProcess.run(["verify", "--root", root])
        #expect(clean.0 == 0 && clean.1.contains("store is clean"))
    }

    @Test func gcEvictsToTheLimit() async throws {
        let root = NSTemporaryDirectory() + "hoard-gc-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try await HoardProcess.run(["ingest", "--root", root, HoardBinary.path])
        let (status, out, _) = try await HoardProcess.run(["gc", "--root", root, "--max-size", "1KB"])
        #expect(status == 0)
        #expect(out.contains("evicted 1 blobs"))
        let (missing, _, err) = try await HoardProcess.run(["gc", "--root", root])
        #expect(missing != 0 && err.contains("--max-size"))
    }
}
