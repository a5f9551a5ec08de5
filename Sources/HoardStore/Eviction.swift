/// What one eviction pass did.
public struct EvictionReport: Sendable, Equatable {
    public var removedBlobs = 0
    public var removedBytes: Int64 = 0
    /// Bytes held after the pass; above the limit only when pinned blobs and the current
    /// documents alone exceed it.
    public var remainingBytes: Int64 = 0
    public var remainingBlobs = 0
}

/// Keeps the store under a size limit by removing the least recently used blobs that nothing
/// pins (pushed content, which exists nowhere else, is pinned), together with their names.
/// The current snapshot of every channel document is kept too: the document cache serves it from
/// memory (no access is recorded) and checks packages against it, and upstream may be gone.
public struct Evictor: Sendable {
    public let store: Store
    public let limit: ByteSize

    public init(store: Store, limit: ByteSize) {
        self.store = store
        self.limit = limit
    }

    public func run() async throws -> EvictionReport {
        // Access times gathered in memory must count before anything is judged old.
        try await store.flushAccessTimes()
        var report = EvictionReport()
        var (count, total) = try await store.totals()
        while total > limit.bytes {
            // Read each round: a document saved meanwhile is kept too.
            let kept = try await store.index.documentDigests()
            // Asking for `kept.count` more guarantees 512 evictable ones when there are that many.
            let candidates = try await store.index.evictionCandidates(limit: 512 + kept.count)
            var batch: [BlobDigest] = []
            for candidate in candidates where total > limit.bytes && !kept.contains(candidate.digest) {
                batch.append(candidate.digest)
                total -= candidate.size
                count -= 1
                report.removedBytes += candidate.size
            }
            if batch.isEmpty { break }
            try await store.remove(batch)
            report.removedBlobs += batch.count
        }
        report.remainingBytes = total
        report.remainingBlobs = count
        if report.removedBlobs > 0 {
            store.logger.info("evicted least recently used blobs", metadata: [
                "removed": "\(report.removedBlobs)", "freed": "\(ByteSize(bytes: report.removedBytes))",
                "remaining": "\(ByteSize(bytes: total))", "limit": "\(limit)",
            ])
        }
        return report
    }
}
