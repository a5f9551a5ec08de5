import Foundation

/// What one garbage collection over a shared bucket did (or, in a dry run, would do).
public struct GarbageCollectionReport: Sendable, Equatable {
    public var dryRun = false
    /// Blobs no shared record mentions, older than the grace period: removed.
    public var removedBlobs: [BlobDigest] = []
    public var removedBytes: Int64 = 0
    /// Blobs no shared record mentions yet, within the grace period: kept (their name may be on
    /// its way: a name is written just after its blob is committed).
    public var youngUnnamedBlobs = 0
    /// Blobs some shared record mentions: kept.
    public var namedBlobs = 0
    /// Upload sessions idle for longer than the upload expiry: removed.
    public var expiredUploads = 0
    /// What unfinished ingests left (abandoned multipart uploads, staging objects); not looked
    /// for in a dry run.
    public var leftovers = 0
    /// Access-time objects of nodes silent for a long time: removed.
    public var staleAccessObjects = 0
}

/// Garbage collection over a shared bucket, run by the holder of the maintenance lease (or by
/// `hoard gc`): removes the blobs no shared record mentions, once older than a grace period, so a
/// blob committed just before its name is written is never taken; removes expired upload sessions;
/// asks the backend to remove what unfinished ingests left (abandoned multipart uploads, staging
/// objects: an ingest in progress is invisible as a blob until it completes, and the backend
/// leaves recent ones alone); and forgets the access times of nodes gone for good.
///
/// Records are scanned again just before the first removal, so only a name written in the
/// moment between that scan and the removal could be left pointing at a removed blob (it is
/// then a miss, as after an eviction).
public struct SharedGarbageCollector: Sendable {
    public let store: Store
    public let names: SharedNameScan
    public let accesses: SharedAccessTimes
    /// Unnamed blobs younger than this (seconds since their commit) are kept.
    public let grace: TimeInterval
    /// Upload sessions idle for longer than this are removed.
    public let uploadExpiry: TimeInterval
    /// Access-time objects not updated for this long are removed.
    public let accessExpiry: TimeInterval
    let stillHeld: @Sendable () async -> Bool

    public init(
        store: Store, names: SharedNameScan, accesses: SharedAccessTimes,
        grace: TimeInterval = 3600, uploadExpiry: TimeInterval = 3600, accessExpiry: TimeInterval = 30 * 86400,
        stillHeld: @escaping @Sendable () async -> Bool = { true }
    ) {
        self.store = store
        self.names = names
        self.accesses = accesses
        self.grace = grace
        self.uploadExpiry = uploadExpiry
        self.accessExpiry = accessExpiry
        self.stillHeld = stillHeld
    }

    public func run(dryRun: Bool = false, now: Date = Date()) async throws -> GarbageCollectionReport {
        var report = GarbageCollectionReport()
        report.dryRun = dryRun
        let entries = try await store.blobs.entries().compactMap { entry in entry.digest.map { (digest: $0, entry: entry) } }
        var shared = try await names.scan()
        var garbage = unnamedAndOld(entries, shared: shared, now: now, report: &report)
        if !garbage.isEmpty && !dryRun {
            // Names written since the first scan count too (only changed records are read).
            shared = try await names.scan()
            garbage = garbage.filter { !shared.referenced.contains($0.digest) }
        }
        for (position, candidate) in garbage.enumerated() {
            if position > 0, position % SharedEvictor.renewEvery == 0, !(await stillHeld()) {
                store.logger.warning("lost the maintenance lease during garbage collection; another node continues")
                break
            }
            guard !store.isServing(candidate.digest) else { continue }
            if !dryRun {
                guard !(try await store.removeUnlessServing([candidate.digest])).isEmpty else { continue }
            }
            report.removedBlobs.append(candidate.digest)
            report.removedBytes += candidate.entry.size
        }

        let uploads = try await store.blobs.uploads.list().filter { now.timeIntervalSince($0.lastModified) > uploadExpiry }
        if !dryRun {
            for upload in uploads { try await store.blobs.uploads.remove(upload.id) }
            // The file backend's leftovers are any ingest under way on this node: only backends
            // that tell an abandoned ingest from a running one (by age) are asked.
            if !(store.blobs is FileBlobStore) { report.leftovers = try await store.blobs.removeLeftovers() }
        }
        report.expiredUploads = uploads.count
        report.staleAccessObjects = try await accesses.removeStale(olderThan: accessExpiry, now: now, dryRun: dryRun).count

        if !report.removedBlobs.isEmpty || report.expiredUploads > 0 || report.leftovers > 0 {
            store.logger.info(dryRun ? "garbage collection (dry run) found" : "garbage collection removed", metadata: [
                "blobs": "\(report.removedBlobs.count)", "bytes": "\(ByteSize(bytes: report.removedBytes))",
                "expired_uploads": "\(report.expiredUploads)", "leftovers": "\(report.leftovers)",
                "stale_access_objects": "\(report.staleAccessObjects)",
            ])
        }
        return report
    }

    private func unnamedAndOld(
        _ entries: [(digest: BlobDigest, entry: BlobStoreEntry)], shared: SharedNames, now: Date, report: inout GarbageCollectionReport
    ) -> [(digest: BlobDigest, entry: BlobStoreEntry)] {
        var garbage: [(digest: BlobDigest, entry: BlobStoreEntry)] = []
        for candidate in entries {
            if shared.referenced.contains(candidate.digest) {
                report.namedBlobs += 1
            } else if let committed = candidate.entry.lastModified, now.timeIntervalSince(committed) >= grace {
                garbage.append(candidate)
            } else {
                // No commit time: never judged old.
                report.youngUnnamedBlobs += 1
            }
        }
        return garbage
    }
}
