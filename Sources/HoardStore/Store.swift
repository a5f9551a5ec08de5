import Foundation
import GRDB
import Logging
import NIOCore

/// The store: blobs (behind `BlobStore`) plus the index that names them, opened by one process
/// at a time.
///
/// Opening it recovers from whatever a crash left behind (see `Recovery`), so every command that
/// opens a store sees a valid one.
public final class Store: Sendable {
    public let layout: StoreLayout
    public let blobs: any BlobStore
    public let index: StoreIndex
    public let logger: Logger
    private let lock: StoreLock
    private let accesses = AccessRecorder()
    private let leases = ServingLeases()

    /// Opens (creating if needed) the store at `root`, takes its lock and runs crash recovery.
    /// Blobs live in `blobs` when given (another backend), else in files under `root`
    /// (`FileBlobStore`); the index and the lock are always under `root`.
    ///
    /// When the index names blobs but the blob directory is missing or holds none of them (an
    /// unmounted blob volume), recovery would drop every row: this throws `blobVolumeMissing`
    /// instead, unless `acceptMissingBlobs` says the loss is intended.
    ///
    /// `shared` (several nodes over one bucket): the names shared with the other nodes. The
    /// index then writes through to them and reads through them, and this node's SQLite is a
    /// cache of the bucket (cache-layout.md, "The bucket"). nil: one node, the SQLite is the truth.
    public static func open(
        root: String, blobs: (any BlobStore)? = nil, shared: (any SharedObjects)? = nil, acceptMissingBlobs: Bool = false,
        logger: Logger = Logger(label: "hoard.store")
    ) async throws -> Store {
        let layout = StoreLayout(root: root)
        try POSIX.makeDirectories(layout.root)
        let lock = try StoreLock(path: layout.lockPath, root: layout.root)
        let blobs = blobs ?? FileBlobStore(layout: layout)
        if blobs is FileBlobStore {
            // Checked before the index is opened for writing or any directory under the root is
            // created, so that a refused start changes nothing and a missing mount point stays missing.
            let volume = try await BlobVolumeCheck(layout: layout).run()
            if case .absent(let count) = volume {
                guard acceptMissingBlobs else {
                    throw StoreError.blobVolumeMissing(directory: layout.blobsDirectory, indexedBlobs: count)
                }
                logger.warning("the blob directory holds none of the indexed blobs; dropping their rows as --accept-missing-blobs asks",
                               metadata: ["directory": "\(layout.blobsDirectory)", "indexed_blobs": "\(count)"])
            }
        }
        try await blobs.prepare()
        let index = try StoreIndex(path: layout.indexPath, shared: shared.map(SharedIndex.init(objects:)))
        let store = Store(layout: layout, blobs: blobs, index: index, lock: lock, logger: logger)
        let report = try await Recovery(store: store).run()
        if !report.isEmpty { logger.notice("recovered the store after an unclean stop", metadata: report.metadata) }
        return store
    }

    private init(layout: StoreLayout, blobs: any BlobStore, index: StoreIndex, lock: StoreLock, logger: Logger) {
        self.layout = layout
        self.blobs = blobs
        self.index = index
        self.lock = lock
        self.logger = logger
    }

    // MARK: Writing

    /// Starts an ingest. Give the digest and size when they are known: a mismatch is then caught
    /// before anything is published. `readersFirst`: see `BlobStore.makeWriter`.
    public func makeWriter(expectedDigest: BlobDigest? = nil, expectedSize: Int64? = nil, readersFirst: Bool = false) async throws(StoreError) -> any BlobWriter {
        try await blobs.makeWriter(expectedDigest: expectedDigest, expectedSize: expectedSize, readersFirst: readersFirst)
    }

    /// Commits a writer's blob, then records it in the index (blob first, then row).
    @discardableResult
    public func commit(_ writer: any BlobWriter, pinned: Bool = false) async throws -> BlobRecord {
        let (digest, size) = try await writer.commit()
        do {
            try await index.recordBlob(digest, size: size, pinned: pinned)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
            // The file is complete and named; without its row it is an orphan that the next
            // start adopts (or eviction never sees). Say what the operator must do.
            throw StoreError.diskFull(path: layout.indexPath)
        }
        guard let record = try await index.blob(digest) else { throw StoreError.blobNotFound(digest) }
        return record
    }

    /// Ingests an async sequence of buffers (an HTTP body, a file read in chunks).
    @discardableResult
    public func ingest<S: AsyncSequence>(
        _ chunks: S, expectedDigest: BlobDigest? = nil, expectedSize: Int64? = nil, pinned: Bool = false
    ) async throws -> BlobRecord where S.Element == ByteBuffer {
        if let expectedDigest, let existing = try await existingBlob(expectedDigest) {
            return existing
        }
        let writer = try await makeWriter(expectedDigest: expectedDigest, expectedSize: expectedSize)
        do {
            for try await chunk in chunks { try await writer.write(chunk) }
        } catch {
            writer.cancel()
            throw error
        }
        return try await commit(writer, pinned: pinned)
    }

    /// Ingests bytes held in memory (manifests, small documents).
    @discardableResult
    public func ingest(bytes: [UInt8], expectedDigest: BlobDigest? = nil, pinned: Bool = false) async throws -> BlobRecord {
        let digest = BlobDigest.of(bytes)
        if let expectedDigest, expectedDigest != digest {
            throw StoreError.digestMismatch(expected: expectedDigest, actual: digest)
        }
        if let existing = try await existingBlob(digest) {
            if pinned && !existing.pinned { try await index.setPinned(digest, true) }
            return existing
        }
        let writer = try await makeWriter(expectedDigest: digest, expectedSize: Int64(bytes.count))
        try await writer.write(ByteBuffer(bytes: bytes))
        return try await commit(writer, pinned: pinned)
    }

    // MARK: Reading

    /// The blob's record when both its row and its file are present.
    ///
    /// With a shared index the bucket is the truth and the row a cache: a blob with no row here
    /// that the bucket holds (another node committed it) is adopted, so it is served rather than
    /// fetched again; a row whose blob the bucket no longer holds (evicted by another node) is
    /// dropped with the names cached for it, so that the next lookup of a name asks the bucket.
    public func existingBlob(_ digest: BlobDigest) async throws -> BlobRecord? {
        guard let record = try await index.blob(digest) else {
            guard index.shared != nil else { return nil }
            guard let size = try await blobs.size(of: digest) else { return nil }
            try await index.recordBlob(digest, size: size)
            return try await index.blob(digest)
        }
        guard try await blobs.size(of: digest) != nil else {
            if index.shared != nil { try await index.removeBlobs([digest]) }
            return nil
        }
        return record
    }

    /// Opens a blob for reading and notes the access for eviction. The blob is not evicted
    /// while the reader (or anything holding it) is alive.
    public func open(_ digest: BlobDigest) async throws(StoreError) -> any BlobReader {
        let reader = try await blobs.open(digest)
        accesses.record(digest)
        return LeasedBlobReader(reader, lease: leases.take(digest))
    }

    /// Whether a reader of this blob is alive (it is being served, or held to be served).
    public func isServing(_ digest: BlobDigest) -> Bool {
        leases.isLeased(digest)
    }

    /// How many distinct blobs have a live reader.
    public var servingCount: Int { leases.leasedCount }

    public func contains(_ digest: BlobDigest) async throws -> Bool {
        try await existingBlob(digest) != nil
    }

    /// Writes collected access times to the index; the server calls this periodically.
    public func flushAccessTimes() async throws {
        try await index.recordAccess(accesses.drain())
    }

    // MARK: Removing

    /// Removes blobs: their rows (and every name pointing at them) first, then the files.
    public func remove(_ digests: [BlobDigest]) async throws {
        try await index.removeBlobs(digests)
        for digest in digests { try await blobs.delete(digest) }
    }

    /// Removes those of `digests` that no live reader holds, checked just before; returns them.
    /// (A reader opened after the check keeps its bytes: an open file outlives its name.)
    public func removeUnlessServing(_ digests: [BlobDigest]) async throws -> [BlobDigest] {
        let removable = leases.unleased(digests)
        if !removable.isEmpty { try await remove(removable) }
        return removable
    }

    /// Blob count and bytes, from the index.
    public func totals() async throws -> (count: Int, bytes: Int64) {
        try await index.totals()
    }
}
