#if canImport(Glibc)
import Glibc
#endif

/// The seam between hoard and where blob bytes live: immutable blobs named by their sha256.
///
/// `FileBlobStore` keeps them on a local file system; another implementation (an S3-compatible
/// bucket shared by several nodes) must keep the same promises: a blob is visible only once its
/// bytes are complete and verified, and it never changes.
public protocol BlobStore: Sendable {
    /// The size of a committed blob, or nil when it is absent.
    func size(of digest: BlobDigest) throws(StoreError) -> Int64?
    /// Opens a committed blob for positional reads.
    func open(_ digest: BlobDigest) throws(StoreError) -> BlobFile
    /// Starts an ingest; `commit()` on the writer verifies and publishes the blob.
    func makeWriter(expectedDigest: BlobDigest?, expectedSize: Int64?) throws(StoreError) -> BlobWriter
    /// Removes a blob; removing an absent blob is not an error.
    func delete(_ digest: BlobDigest) throws(StoreError)
    /// Calls `body` for every stored blob file, with its name as found (it may not be a digest).
    func walk(_ body: (BlobStoreEntry) throws -> Void) throws
    /// Upload sessions (OCI chunked uploads), whose bytes become blobs through a writer.
    var uploads: any BlobUploads { get }
}

/// One file found under the blob directory by `walk`.
public struct BlobStoreEntry: Sendable {
    /// The digest its name spells, or nil when the name is not a digest in its right fan-out.
    public let digest: BlobDigest?
    public let path: String
    public let size: Int64
}

/// Blobs as files at `<root>/blobs/sha256/<first two hex>/<64 hex>`.
public struct FileBlobStore: BlobStore {
    public let layout: StoreLayout

    public init(layout: StoreLayout) { self.layout = layout }

    /// Sessions under `tmp/uploads/`; their files are read and written on NIO's shared thread pool.
    public var uploads: any BlobUploads { FileBlobUploads(layout: layout, pool: .singleton) }

    public func size(of digest: BlobDigest) throws(StoreError) -> Int64? {
        try POSIX.fileSize(layout.blobPath(digest))
    }

    public func open(_ digest: BlobDigest) throws(StoreError) -> BlobFile {
        do {
            return try BlobFile(digest: digest, path: layout.blobPath(digest))
        } catch .io(_, _, let code) where code == ENOENT {
            throw .blobNotFound(digest)
        }
    }

    public func makeWriter(expectedDigest: BlobDigest?, expectedSize: Int64?) throws(StoreError) -> BlobWriter {
        try BlobWriter(layout: layout, expectedDigest: expectedDigest, expectedSize: expectedSize)
    }

    public func delete(_ digest: BlobDigest) throws(StoreError) {
        try POSIX.unlinkIfPresent(layout.blobPath(digest))
    }

    public func walk(_ body: (BlobStoreEntry) throws -> Void) throws {
        for fanout in try POSIX.listDirectory(layout.blobsDirectory).sorted() {
            let directory = layout.blobsDirectory + "/" + fanout
            guard POSIX.isDirectory(directory) else {
                try body(BlobStoreEntry(digest: nil, path: directory, size: try POSIX.fileSize(directory) ?? 0))
                continue
            }
            for name in try POSIX.listDirectory(directory).sorted() {
                let path = directory + "/" + name
                let digest = (try? BlobDigest(parsing: name)).flatMap { $0.prefix == fanout ? $0 : nil }
                let size = try POSIX.fileSize(path)
                try body(BlobStoreEntry(digest: size == nil ? nil : digest, path: path, size: size ?? 0))
            }
        }
    }
}
