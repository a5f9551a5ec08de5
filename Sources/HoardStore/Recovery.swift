import Foundation
import Logging

/// What start-up recovery found and fixed.
public struct RecoveryReport: Sendable, Equatable {
    /// Temp files of ingests that never finished; removed.
    public var leftoverTempFiles = 0
    /// Index rows whose blob file is gone; dropped.
    public var missingBlobs = 0
    /// Complete blob files without a row (a crash between rename and row); adopted.
    public var adoptedBlobs = 0

    public var isEmpty: Bool { self == RecoveryReport() }

    public var metadata: Logger.Metadata {
        ["leftover_temp_files": "\(leftoverTempFiles)", "missing_blobs": "\(missingBlobs)", "adopted_blobs": "\(adoptedBlobs)"]
    }
}

/// Brings a store back to its invariants after an unclean stop: no partial file can ever be
/// served (partials live only where the backend keeps unfinished ingests), and the index names only blobs that exist.
///
/// A blob file under `blobs/` was renamed there only after its digest was verified, so one with
/// a valid name and no row is complete: it is adopted rather than thrown away. Files whose names
/// are not digests are left for `hoard verify --repair`, which reports and removes them.
struct Recovery {
    let store: Store

    func run() async throws -> RecoveryReport {
        var report = RecoveryReport()
        report.leftoverTempFiles = try await store.blobs.removeLeftovers()
        // With a shared index (several nodes, one bucket) rows are not reconciled here: that would
        // list every blob of the bucket at every start, and it is not needed. Rows are a cache,
        // checked where they are used: a blob without a row (a crash between commit and row, or
        // another node's blob) is adopted on first lookup (`Store.existingBlob` asks the bucket),
        // and a row whose blob is gone is dropped there too. Names are written only after their
        // blob is committed, so a crash leaves at most an unnamed blob, which GC collects.
        // `hoard index rebuild` reconciles the whole cache on demand.
        if store.index.shared != nil { return report }

        let rows = try await store.index.allBlobs()
        var onDisk: [BlobDigest: Int64] = [:]
        for entry in try await store.blobs.entries() {
            if let digest = entry.digest { onDisk[digest] = entry.size }
        }

        let missing = rows.filter { onDisk[$0.digest] == nil }.map(\.digest)
        try await store.index.removeBlobs(missing)
        report.missingBlobs = missing.count

        let known = Set(rows.map(\.digest))
        let now = Date().timeIntervalSince1970
        for (digest, size) in onDisk where !known.contains(digest) {
            try await store.index.recordBlob(digest, size: size, now: now)
            report.adoptedBlobs += 1
        }
        return report
    }
}
