import Foundation
import GRDB

/// What `hoard index rebuild` found: the rows this node's index holds afterwards.
public struct IndexRebuildReport: Sendable, Equatable {
    public var blobs = 0
    public var condaFiles = 0
    public var documents = 0
    public var tokens = 0
    public var condaInfoLayers = 0
    /// Cached blob rows dropped because the bucket no longer holds their blob (names included).
    public var droppedBlobs = 0
    /// The OCI side's records (`refreshOCINames`).
    public var oci = OCIRefreshCounts()
}

/// Refills a node's SQLite index from the bucket (`hoard index rebuild`): after a lost or
/// damaged root, or to reconcile a cache that start-up deliberately does not reconcile (see
/// `Recovery`). Every shared record (conda side here, OCI side in `refreshOCINames`) is read again and cached, cached rows the
/// bucket no longer has are dropped, and the blob rows are made to match one listing of the
/// bucket's blobs. It costs a listing of every key, which is why it is a command and not part
/// of every start.
public struct SharedIndexRebuild: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    public func run() async throws -> IndexRebuildReport {
        let index = store.index
        guard index.shared != nil else {
            throw StoreError.index("this store has no shared index: hoard index rebuild refills a node's index from a bucket (--storage s3://BUCKET/PREFIX)")
        }
        var report = IndexRebuildReport()
        try await index.refreshCondaNames([], rereadAll: true)
        try await index.refreshDocuments([], rereadAll: true)
        try await index.refreshTokens()
        _ = try await index.refreshCondaInfo()
        report.oci = try await index.refreshOCINames()

        // Blob rows: what the bucket holds. Names cached above whose blob is gone go with it.
        var present: [BlobDigest: Int64] = [:]
        for entry in try await store.blobs.entries() {
            if let digest = entry.digest { present[digest] = entry.size }
        }
        let rows = try await index.allBlobs()
        let gone = rows.filter { present[$0.digest] == nil }.map(\.digest)
        try await index.removeBlobs(gone)
        report.droppedBlobs = gone.count
        let known = Set(rows.map(\.digest))
        let now = Date().timeIntervalSince1970
        for (digest, size) in present where !known.contains(digest) {
            try await index.recordBlob(digest, size: size, now: now)
        }
        for row in rows where present[row.digest].map({ $0 != row.size }) ?? false {
            try await index.setSize(row.digest, present[row.digest] ?? row.size)
        }

        let counts = try await index.cachedRowCounts()
        report.blobs = counts.blobs
        report.condaFiles = counts.condaFiles
        report.documents = counts.documents
        report.tokens = counts.tokens
        report.condaInfoLayers = counts.condaInfoLayers
        return report
    }
}

extension StoreIndex {
    func cachedRowCounts() async throws -> (blobs: Int, condaFiles: Int, documents: Int, tokens: Int, condaInfoLayers: Int) {
        try await pool.read { db in
            func count(_ table: String) throws -> Int { try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
            return (try count("blob"), try count("conda_file"), try count("repodata") + count("repodata_missing"),
                    try count("channel_token"), try count("conda_oci_info"))
        }
    }
}
