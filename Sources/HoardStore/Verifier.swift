import Crypto
import Foundation

/// What `hoard verify` found, and what it repaired.
public struct VerifyReport: Sendable {
    public var checkedBlobs = 0
    public var checkedBytes: Int64 = 0
    /// Blob files whose bytes do not hash to their name.
    public var corrupt: [BlobDigest] = []
    /// Index rows whose file is missing.
    public var missing: [BlobDigest] = []
    /// Complete, correct blob files the index does not name.
    public var orphaned: [BlobDigest] = []
    /// Files under `blobs/` that are not named as blobs at all.
    public var foreign: [String] = []
    /// Index rows whose recorded size differs from the file.
    public var wrongSize: [BlobDigest] = []
    public var repaired = false

    /// Whether anything is wrong (before repair).
    public var foundDamage: Bool {
        !(corrupt.isEmpty && missing.isEmpty && orphaned.isEmpty && foreign.isEmpty && wrongSize.isEmpty)
    }
}

/// Re-hashes every blob, in parallel, and compares the blob tree with the index.
///
/// `repair` removes corrupt blobs (row first, then file) and foreign files, drops rows of missing
/// blobs, fixes recorded sizes and adopts orphaned blobs whose bytes are correct.
public struct Verifier: Sendable {
    public let store: Store
    public let parallelism: Int

    public init(store: Store, parallelism: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.store = store
        self.parallelism = max(1, parallelism)
    }

    public func run(repair: Bool) async throws -> VerifyReport {
        var report = VerifyReport()
        let rows = Dictionary(uniqueKeysWithValues: try await store.index.allBlobs().map { ($0.digest, $0) })
        var files: [(BlobDigest, Int64)] = []
        try store.blobs.walk { entry in
            if let digest = entry.digest { files.append((digest, entry.size)) } else { report.foreign.append(entry.path) }
        }
        let onDisk = Set(files.map(\.0))
        report.missing = rows.keys.filter { !onDisk.contains($0) }.sorted()

        // Hash with a bounded number of files in flight.
        try await withThrowingTaskGroup(of: (BlobDigest, Int64, Bool).self) { group in
            var iterator = files.makeIterator()
            func addNext() -> Bool {
                guard let (digest, size) = iterator.next() else { return false }
                let path = store.layout.blobPath(digest)
                group.addTask { (digest, size, try Verifier.hashMatches(path: path, digest: digest)) }
                return true
            }
            for _ in 0..<parallelism where !addNext() { break }
            while let (digest, size, ok) = try await group.next() {
                report.checkedBlobs += 1
                report.checkedBytes += size
                if !ok {
                    report.corrupt.append(digest)
                } else if let row = rows[digest] {
                    if row.size != size { report.wrongSize.append(digest) }
                } else {
                    report.orphaned.append(digest)
                }
                _ = addNext()
            }
        }
        report.corrupt.sort()
        report.orphaned.sort()
        report.wrongSize.sort()

        if repair {
            try await store.remove(report.corrupt)
            try await store.index.removeBlobs(report.missing)
            for path in report.foreign { try POSIX.removeTree(path) }
            for digest in report.orphaned {
                guard let size = try store.blobs.size(of: digest) else { continue }
                try await store.index.recordBlob(digest, size: size)
            }
            for digest in report.wrongSize {
                guard let size = try store.blobs.size(of: digest) else { continue }
                try await store.index.setSize(digest, size)
            }
            report.repaired = true
        }
        return report
    }

    /// Streams a file through sha256 with a 1 MiB buffer.
    static func hashMatches(path: String, digest: BlobDigest) throws -> Bool {
        let fd = try POSIX.open(path, O_RDONLY)
        defer { close(fd) }
        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while true {
            let n = try POSIX.pread(fd, into: buffer, offset: offset, path: path)
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<n]))
            offset += Int64(n)
        }
        return BlobDigest(hasher.finalize()) == digest
    }
}
