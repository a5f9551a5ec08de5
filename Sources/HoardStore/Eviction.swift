/// What one eviction pass did.
public struct EvictionReport: Sendable, Equatable {
    public var removedBlobs = 0
    public var removedBytes: Int64 = 0
    /// Bytes held after the pass; above the limit only when pinned blobs, the current
    /// documents and the blobs being served alone exceed it.
    public var remainingBytes: Int64 = 0
    public var remainingBlobs = 0
}

/// Keeps the store under a size limit by removing the least recently used blobs that nothing
/// pins (pushed content, which exists nowhere else, is pinned), together with their names.
/// A blob being served (a reader of it is alive, `Store.isServing`) is skipped: its turn comes
/// in a later pass. `release` is told the candidates first, so that caches holding idle readers
/// (the fast path's table) can let go of them.
/// The current snapshot of every channel document is kept too: the document cache serves it from
/// memory (no access is recorded) and checks packages against it, and upstream may be gone.
public struct Evictor: Sendable {
    public let store: Store
    public let limit: ByteSize
    let release: @Sendable ([BlobDigest]) -> Void

    public init(store: Store, limit: ByteSize, release: @escaping @Sendable ([BlobDigest]) -> Void = { _ in }) {
        self.store = store
        self.limit = limit
        self.release = release
    }

    public func run() async throws -> EvictionReport {
        // Access times gathered in memory must count before anything is judged old.
        try await store.flushAccessTimes()
        var report = EvictionReport()
        var (count, total) = try await store.totals()
        while total > limit.bytes {
            // Read each round: a document saved meanwhile is kept too.
            let kept = try await store.index.documentDigests()
            // Asking for `kept.count` and the served ones more guarantees 512 evictable ones when
            // there are that many.
            let candidates = try await store.index.evictionCandidates(limit: 512 + kept.count + store.servingCount)
            release(candidates.map(\.digest))
            var batch: [BlobRecord] = []
            var planned: Int64 = total
            for candidate in candidates where planned > limit.bytes && !kept.contains(candidate.digest) && !store.isServing(candidate.digest) {
                batch.append(candidate)
                planned -= candidate.size
            }
            if batch.isEmpty { break }
            let removed = Set(try await store.removeUnlessServing(batch.map(\.digest)))
            if removed.isEmpty { break }
            for candidate in batch where removed.contains(candidate.digest) {
                total -= candidate.size
                count -= 1
                report.removedBytes += candidate.size
            }
            report.removedBlobs += removed.count
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
