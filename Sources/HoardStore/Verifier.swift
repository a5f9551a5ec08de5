import Crypto
import Foundation
import NIOPosix

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
    /// Files under `blobs/` that are not named as blobs at all (where they are).
    public var foreign: [String] { foreignEntries.map(\.location) }
    var foreignEntries: [BlobStoreEntry] = []
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
/// Read-only (`init(root:)`), it runs beside a live server: no lock, no writes, no recovery. The
/// server keeps committing and evicting meanwhile, so every finding is checked again before it is
/// reported: a file without a row may be an ingest between its rename and its row (commit order
/// is blob, then row), and a row without a file may be an eviction between its row and its file
/// (deletion order is row, then blob). A file is orphaned only if, after `settle`, it still has no
/// row; a row is missing only if, re-read, it is still there and its file still is not.
///
/// `repair` (only with a `Store`, which holds the lock) removes corrupt blobs (row first, then
/// file) and foreign files, drops rows of missing blobs, fixes recorded sizes and adopts orphaned
/// blobs whose bytes are correct.
public struct Verifier: Sendable {
    public let layout: StoreLayout
    public let parallelism: Int
    private let blobs: any BlobStore
    private let rows: any BlobRowSource
    private let store: Store?
    private let settle: Duration

    /// Verifies (and may repair) a store this process holds.
    public init(store: Store, parallelism: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.layout = store.layout
        self.blobs = store.blobs
        self.rows = store.index
        self.store = store
        self.parallelism = max(1, parallelism)
        self.settle = .zero  // nothing else writes to a store we hold
    }

    /// Verifies the store at `root` read-only, whether or not a server holds it. Creates nothing.
    public init(
        root: String, parallelism: Int = ProcessInfo.processInfo.activeProcessorCount, settle: Duration = .seconds(2)
    ) throws {
        let layout = StoreLayout(root: root)
        let index = try ReadOnlyIndex(path: layout.indexPath, root: layout.root)
        self.layout = layout
        self.blobs = FileBlobStore(layout: layout)
        self.rows = index
        self.store = nil
        self.parallelism = max(1, parallelism)
        self.settle = settle
    }

    public func run(repair: Bool) async throws -> VerifyReport {
        guard !repair || store != nil else { throw StoreError.index("verify --repair needs the store opened for writing") }
        var report = VerifyReport()
        // Rows first, then files: a row committed after this read names a file that is already
        // renamed, so it can only show up as a file without a row, which is checked again below.
        let rows = Dictionary(uniqueKeysWithValues: try await self.rows.allBlobs().map { ($0.digest, $0) })
        var files: [(BlobDigest, Int64)] = []
        for entry in try await blobs.entries() {
            if let digest = entry.digest { files.append((digest, entry.size)) } else { report.foreignEntries.append(entry) }
        }
        let onDisk = Set(files.map(\.0))
        var missingCandidates = rows.keys.filter { !onDisk.contains($0) }
        var orphanCandidates: [(BlobDigest, Int64)] = []

        for (digest, size, ok) in try await Self.hash(files, in: blobs, parallelism: parallelism) {
            guard let ok else {
                // Removed while we looked (eviction): missing only if its row stays.
                if rows[digest] != nil { missingCandidates.append(digest) }
                continue
            }
            report.checkedBlobs += 1
            report.checkedBytes += size
            if !ok {
                report.corrupt.append(digest)
            } else if let row = rows[digest] {
                if row.size != size { report.wrongSize.append(digest) }
            } else {
                orphanCandidates.append((digest, size))
            }
        }

        if store == nil, !orphanCandidates.isEmpty { try await Task.sleep(for: settle) }
        for (digest, size) in orphanCandidates {
            let row: BlobRecord? = try await self.rows.blob(digest)
            let stillThere: Int64? = try await blobs.size(of: digest)
            if let row {
                if row.size != size { report.wrongSize.append(digest) }
            } else if stillThere != nil {
                report.orphaned.append(digest)
            }
        }
        for digest in missingCandidates {
            let row: BlobRecord? = try await self.rows.blob(digest)
            let file: Int64? = try await blobs.size(of: digest)
            if row != nil && file == nil { report.missing.append(digest) }
        }
        report.corrupt.sort()
        report.missing.sort()
        report.orphaned.sort()
        report.wrongSize.sort()

        if repair, let store {
            try await store.remove(report.corrupt)
            try await store.index.removeBlobs(report.missing)
            for entry in report.foreignEntries { try await store.blobs.removeForeign(entry) }
            for digest in report.orphaned {
                guard let size = try await store.blobs.size(of: digest) else { continue }
                try await store.index.recordBlob(digest, size: size)
            }
            for digest in report.wrongSize {
                guard let size = try await store.blobs.size(of: digest) else { continue }
                try await store.index.setSize(digest, size)
            }
            report.repaired = true
        }
        return report
    }

    /// Hashes blobs with at most `parallelism` in flight; each result says whether the bytes
    /// match the name (nil: the blob was gone by then).
    private static func hash(
        _ files: [(BlobDigest, Int64)], in blobs: any BlobStore, parallelism: Int
    ) async throws -> [(BlobDigest, Int64, Bool?)] {
        try await withThrowingTaskGroup(of: (BlobDigest, Int64, Bool?).self) { group in
            var results: [(BlobDigest, Int64, Bool?)] = []
            results.reserveCapacity(files.count)
            var next = 0
            while true {
                while next < files.count && next - results.count < parallelism {
                    let (digest, size) = files[next]
                    next += 1
                    group.addTask { (digest, size, try await hashMatches(digest, in: blobs)) }
                }
                guard let result = try await group.next() else { break }
                results.append(result)
            }
            return results
        }
    }

    /// Whether the blob's bytes hash to its name; nil when it is gone. Hashing a whole blob
    /// blocks: it runs on NIO's shared thread pool (verify is a command, or `--repair` beside no
    /// server), not on the cooperative one.
    static func hashMatches(_ digest: BlobDigest, in blobs: any BlobStore) async throws -> Bool? {
        let reader: any BlobReader
        do {
            reader = try await blobs.open(digest)
        } catch .blobNotFound {
            return nil
        }
        return try await NIOThreadPool.singleton.runIfActive {
            try reader.withContiguousBytes { bytes in
                var hasher = SHA256()
                hasher.update(bufferPointer: bytes)
                return BlobDigest(hasher.finalize()) == digest
            }
        }
    }
}
