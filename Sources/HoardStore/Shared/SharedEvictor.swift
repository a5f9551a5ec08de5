import Foundation

/// Eviction when several nodes share one bucket (`StoreIndex.shared` set), run by the holder of
/// the maintenance lease: keeps the bucket's blobs under a size limit by removing the least
/// recently used ones, by the access times every node publishes.
///
/// The total is the bucket's blob listing (what every node committed). A blob's age is its
/// latest access on any node, or its commit (the object's LastModified) when that is later or no
/// node read it. Never removed: blobs pushed OCI content names (pinned, here or in the bucket),
/// blobs the current channel documents use, and blobs this node is serving. For each victim the
/// shared names that point at it go first (each read again just before, so a name moved to
/// another blob meanwhile stays), then this node's rows, then the blob: no node ever finds a name
/// whose blob was removed before it. (A node that names the blob after that finds it gone: a miss,
/// and the blob is fetched again.)
public struct SharedEvictor: Sendable {
    public let store: Store
    public let names: SharedNameScan
    public let accesses: SharedAccessTimes
    public let limit: ByteSize
    let release: @Sendable ([BlobDigest]) -> Void
    let stillHeld: @Sendable () async -> Bool

    /// `release` is told each victim first (caches holding idle readers let go); `stillHeld` is
    /// asked every `renewEvery` removals (a long pass renews the lease, and stops if it was lost).
    public init(
        store: Store, names: SharedNameScan, accesses: SharedAccessTimes, limit: ByteSize,
        release: @escaping @Sendable ([BlobDigest]) -> Void = { _ in },
        stillHeld: @escaping @Sendable () async -> Bool = { true }
    ) {
        self.store = store
        self.names = names
        self.accesses = accesses
        self.limit = limit
        self.release = release
        self.stillHeld = stillHeld
    }

    static let renewEvery = 64

    public func run(dryRun: Bool = false, now: Date = Date()) async throws -> EvictionReport {
        // This node's reads must count before anything is judged old.
        try await store.flushAccessTimes()
        try await accesses.publish(now: now)
        let entries = try await store.blobs.entries().compactMap { entry in entry.digest.map { (digest: $0, entry: entry) } }
        var total = entries.reduce(Int64(0)) { $0 + $1.entry.size }
        var report = EvictionReport()
        report.remainingBlobs = entries.count
        report.remainingBytes = total
        guard total > limit.bytes else { return report }

        let shared = try await names.scan()
        let times = try await accesses.merged()
        let documents = try await store.index.documentDigests()
        let seconds = now.timeIntervalSince1970
        let candidates = entries.filter { !shared.pinned.contains($0.digest) && !shared.documents.contains($0.digest) && !documents.contains($0.digest) }
            .map { candidate in
                // Not read by any node: as old as its commit; unknown commit time: as new as now.
                let committed = candidate.entry.lastModified?.timeIntervalSince1970 ?? seconds
                return (digest: candidate.digest, size: candidate.entry.size, age: max(times[candidate.digest] ?? committed, committed))
            }
            .sorted { ($0.age, $0.digest) < ($1.age, $1.digest) }

        var attempts = 0
        for candidate in candidates where total > limit.bytes {
            attempts += 1
            if attempts % Self.renewEvery == 0, !(await stillHeld()) {
                store.logger.warning("lost the maintenance lease during eviction; another node continues")
                break
            }
            if let record = try await store.index.blob(candidate.digest), record.pinned { continue }
            release([candidate.digest])
            guard !store.isServing(candidate.digest) else { continue }
            if !dryRun {
                // Names first: a name must never point at a removed blob.
                for key in shared.names[candidate.digest] ?? [] where try await names.mentions(key, candidate.digest) {
                    try await names.objects.delete(key)
                }
                // This node's rows (and, by cascade, its cached names), then the blob.
                guard !(try await store.removeUnlessServing([candidate.digest])).isEmpty else { continue }
            }
            total -= candidate.size
            report.removedBlobs += 1
            report.removedBytes += candidate.size
        }
        report.remainingBytes = total
        report.remainingBlobs = entries.count - report.removedBlobs
        if report.removedBlobs > 0 {
            store.logger.info(dryRun ? "would evict least recently used blobs from the bucket" : "evicted least recently used blobs from the bucket", metadata: [
                "removed": "\(report.removedBlobs)", "freed": "\(ByteSize(bytes: report.removedBytes))",
                "remaining": "\(ByteSize(bytes: total))", "limit": "\(limit)",
            ])
        }
        return report
    }
}
