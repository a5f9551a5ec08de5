/// What one eviction pass did.
public struct EvictionReport: Sendable, Equatable {
    public var removedBlobs = 0
    public var removedBytes: Int64 = 0
    /// Bytes held after the pass; above the limit only when pinned blobs alone exceed it.
    public var remainingBytes: Int64 = 0
    public var remainingBlobs = 0
}

/// Keeps the store under a size limit by removing the least recently used blobs that nothing
/// pins (pushed content, which exists nowhere else, is pinned), together with their names.
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
            let candidates = try await store.index.evictionCandidates(limit: 512)
            if candidates.isEmpty { break }
            var batch: [BlobDigest] = []
            for candidate in candidates where total > limit.bytes {
                batch.append(candidate.digest)
                total -= candidate.size
                count -= 1
                report.removedBytes += candidate.size
            }
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
