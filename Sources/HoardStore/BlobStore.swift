import Foundation

/// The seam between hoard and where blob bytes live: immutable blobs named by their sha256.
///
/// `FileBlobStore` keeps them on a local file system; another backend (an in-memory one for
/// tests, an S3-compatible bucket shared by several nodes) keeps the same promises: a blob is
/// visible only once its bytes are complete and verified, it never changes, and a reader opened
/// on it keeps reading the same bytes even if the blob is deleted meanwhile.
///
/// Nothing outside this target knows how a backend stores bytes: callers get readers and
/// writers, never paths or descriptors (except `BlobReader.fileHandle()`, for sendfile).
public protocol BlobStore: Sendable {
    /// The size of a committed blob, or nil when it is absent.
    func size(of digest: BlobDigest) async throws(StoreError) -> Int64?
    /// Opens a committed blob for positional reads; `.blobNotFound` when it is absent.
    func open(_ digest: BlobDigest) async throws(StoreError) -> any BlobReader
    /// Starts an ingest; `commit()` on the writer verifies and publishes the blob. With a size,
    /// a blob that cannot fit is refused before its first byte (`.diskFull`). `readersFirst`:
    /// clients read the ingest as it grows (a pull-through) and nobody waits for the commit, so
    /// the backend may put off until the commit whatever would compete with them for the CPU
    /// (the S3 backend's part uploads); otherwise it stores as the bytes arrive.
    func makeWriter(expectedDigest: BlobDigest?, expectedSize: Int64?, readersFirst: Bool) async throws(StoreError) -> any BlobWriter
    /// Removes a blob; removing an absent blob is not an error.
    func delete(_ digest: BlobDigest) async throws(StoreError)

    // MARK: Maintenance (recovery, verify)

    /// Creates whatever the backend needs before its first write. Called when a store is opened
    /// for writing, after the check for a missing blob volume (which must find it as it was).
    func prepare() async throws(StoreError)
    /// Removes what unfinished ingests left behind (a crash); returns how many there were.
    func removeLeftovers() async throws(StoreError) -> Int
    /// Everything the backend holds where blobs live, including what is not a blob (its
    /// `digest` is then nil): what recovery adopts and what verify checks.
    func entries() async throws(StoreError) -> [BlobStoreEntry]
    /// Removes an entry `entries()` listed that is not a blob (`verify --repair`).
    func removeForeign(_ entry: BlobStoreEntry) async throws(StoreError)

    /// Upload sessions (OCI chunked uploads), whose bytes become blobs through a writer.
    var uploads: any BlobUploads { get }

    /// A URL a client can GET the committed blob from directly, valid for `expires` seconds (an
    /// S3 presigned URL, for `--s3-redirect`); nil when the backend has none (files, memory).
    func directURL(for digest: BlobDigest, expires: Int) async throws(StoreError) -> String?
}

extension BlobStore {
    public func directURL(for digest: BlobDigest, expires: Int) async throws(StoreError) -> String? { nil }
}

/// One thing found where blobs live, by `BlobStore.entries()`.
public struct BlobStoreEntry: Sendable, Hashable {
    /// The digest its name spells, or nil when it is not a blob (a name that is not a digest, a
    /// digest in the wrong place, something that is not a regular file).
    public let digest: BlobDigest?
    /// Where the backend keeps it, for reports (a path for files, a key for a bucket).
    public let location: String
    public let size: Int64
    /// When the backend last wrote it (an S3 object's LastModified), when it says; garbage
    /// collection over a shared bucket leaves unnamed blobs younger than its grace period alone.
    public let lastModified: Date?

    public init(digest: BlobDigest?, location: String, size: Int64, lastModified: Date? = nil) {
        self.digest = digest
        self.location = location
        self.size = size
        self.lastModified = lastModified
    }
}

extension BlobStore {
    /// An ingest whose caller waits for its commit (an upload, an import).
    public func makeWriter(expectedDigest: BlobDigest?, expectedSize: Int64?) async throws(StoreError) -> any BlobWriter {
        try await makeWriter(expectedDigest: expectedDigest, expectedSize: expectedSize, readersFirst: false)
    }
}
