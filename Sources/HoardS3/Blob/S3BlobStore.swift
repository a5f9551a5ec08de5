import Foundation
import HoardStore
import Logging

/// Blobs in an S3-compatible bucket shared by any number of nodes, at `blobs/sha256/<hex>`
/// under the bucket prefix (`S3BlobKeys` has the whole layout). Each node keeps only its own
/// spool directory (the bytes of its ingests in progress, which its tail readers read) and,
/// optionally, a bounded local cache of blobs: those it wrote or read, served from its own disk
/// the next time. Whether a blob exists is always the bucket's answer (`size(of:)`).
///
/// It keeps the file backend's promises (the conformance suite runs against it): a blob is
/// visible only once complete and verified (`S3BlobWriter`), never changes, and a reader reads
/// on through a delete as long as its streaming GET is open (`S3BlobReader`).
public final class S3BlobStore: BlobStore {
    public let client: S3Client
    /// How old an incomplete multipart upload or a staging object must be before
    /// `removeLeftovers()` takes it for a crash's leftover rather than another node's ingest.
    public let leftoverGrace: TimeInterval
    let context: S3BlobContext

    /// - Parameters:
    ///   - spoolDirectory: node-local, for the bytes of ingests in progress (the root's
    ///     `tmp/s3-spool`); created by `prepare()`.
    ///   - cache: the node's local copies of blobs (the root's `s3-cache`); nil: none.
    ///   - leftoverGrace: one day by default: an ingest may run for hours (a large blob from a
    ///     slow upstream), and an incomplete upload costs only storage until then.
    public init(
        client: S3Client, spoolDirectory: String, cache: LocalBlobCache? = nil, leftoverGrace: TimeInterval = 86_400,
        logger: Logger = Logger(label: "hoard.s3.blobs")
    ) {
        self.client = client
        self.leftoverGrace = leftoverGrace
        context = S3BlobContext(
            client: client, io: SpoolIO(), spool: ScratchDirectory(path: spoolDirectory), cache: cache, background: BackgroundWork(), logger: logger)
    }

    /// The node's local copies, when it keeps them.
    public var cache: LocalBlobCache? { context.cache }

    public var uploads: any BlobUploads { S3BlobUploads(context: context) }

    public func size(of digest: BlobDigest) async throws(StoreError) -> Int64? {
        try await call { try await $0.head(S3BlobKeys.blob(digest)) }?.size
    }

    /// The node's copy when it has one (no request to the bucket: the caller asked the bucket
    /// whether the blob exists, `Store.existingBlob`); else a reader of the bucket's object, and
    /// a copy is made in the background for the next time.
    public func open(_ digest: BlobDigest) async throws(StoreError) -> any BlobReader {
        if let cache = context.cache, let copy = await cache.open(digest) { return copy }
        let key = S3BlobKeys.blob(digest)
        guard let info = try await call({ try await $0.head(key) }) else { throw .blobNotFound(digest) }
        if let cache = context.cache {
            let client = client
            context.background.run {
                await cache.fill(digest, size: info.size) { try await client.get(key)?.body }
            }
        }
        return S3BlobReader(digest: digest, size: info.size, context: context)
    }

    public func makeWriter(expectedDigest: BlobDigest?, expectedSize: Int64?, readersFirst: Bool) async throws(StoreError) -> any BlobWriter {
        let context = context
        return try await context.io.run(context.spool.path) { () throws(StoreError) in
            try S3BlobWriter(context: context, expectedDigest: expectedDigest, expectedSize: expectedSize, partsAtCommit: readersFirst)
        }
    }

    public func delete(_ digest: BlobDigest) async throws(StoreError) {
        await context.cache?.remove(digest)
        try await call { try await $0.delete(S3BlobKeys.blob(digest)) }
    }

    public func directURL(for digest: BlobDigest, expires: Int) async throws(StoreError) -> String? {
        do { return try client.presignedGET(S3BlobKeys.blob(digest), expires: expires) } catch { throw error.storeError }
    }

    // MARK: Maintenance

    /// Creates the spool directory and checks that the bucket answers (a listing of one key), so
    /// that a wrong endpoint, bucket or credentials stop the start with the bucket's own words.
    public func prepare() async throws(StoreError) {
        let spool = context.spool
        try await context.io.run(spool.path) { () throws(StoreError) in try spool.create() }
        try await context.cache?.prepare()
        do {
            _ = try await client.list(prefix: S3BlobKeys.blobs, limit: 1)
        } catch {
            // Named in full: the operator sees which bucket, prefix and endpoint did not answer.
            throw .unavailable(backend: client.location.description, reason: error.description)
        }
    }

    /// Removes what crashed ingests left: this node's spool files (the store lock says no ingest
    /// of this node is running), and, in the bucket, multipart uploads and staging objects older
    /// than `leftoverGrace` (younger ones may be another node's ingest in progress).
    public func removeLeftovers() async throws(StoreError) -> Int {
        let spool = context.spool
        var removed = try await context.io.run(spool.path) { () throws(StoreError) -> Int in try spool.removeAll() }
        let cutoff = Date().addingTimeInterval(-leftoverGrace)
        for upload in try await call({ try await $0.listMultipartUploads(prefix: "") }) {
            guard let initiated = upload.initiated, initiated <= cutoff else { continue }
            try await call { try await $0.abortMultipartUpload(upload.key, uploadID: upload.uploadID) }
            removed += 1
        }
        for object in try await call({ try await $0.list(prefix: S3BlobKeys.staging) }) {
            guard let modified = object.lastModified, modified <= cutoff else { continue }
            try await call { try await $0.delete(object.key) }
            removed += 1
        }
        return removed
    }

    /// Every object under `blobs/`; one whose key is not exactly `blobs/sha256/<64 hex>` is
    /// foreign (nil digest). `location` is the key (relative to the prefix).
    public func entries() async throws(StoreError) -> [BlobStoreEntry] {
        try await call { try await $0.list(prefix: S3BlobKeys.blobs) }.map { object in
            BlobStoreEntry(digest: S3BlobKeys.digest(ofBlobKey: object.key), location: object.key, size: object.size, lastModified: object.lastModified)
        }
    }

    public func removeForeign(_ entry: BlobStoreEntry) async throws(StoreError) {
        // Only ever something under `blobs/` that is not a blob, as `entries()` listed it.
        guard entry.location.hasPrefix(S3BlobKeys.blobs), S3BlobKeys.digest(ofBlobKey: entry.location) == nil else { return }
        try await call { try await $0.delete(entry.location) }
    }

    /// Waits for the work started in the background (aborts of cancelled multipart uploads,
    /// copies to the local cache): for a store closing, and for tests that check what is left.
    public func settle() async {
        await context.background.settle()
    }

    private func call<T>(_ body: (S3Client) async throws -> T) async throws(StoreError) -> T {
        try await context.call(body)
    }
}
