import HoardStore
import NIOCore

/// How the fast path reaches a blob: synchronously, on the event loop, through the store (which
/// records the access for eviction). nil when the blob is gone or has no local file: the request
/// then goes to Hummingbird.
struct FastBlobSource: Sendable {
    let store: Store

    /// A handle on the blob's bytes for sendfile; the caller closes it. An `open(2)` of a file
    /// whose directory entries are cached costs a few microseconds, as nginx pays per request.
    func open(_ digest: BlobDigest, size: Int64) -> NIOFileHandle? {
        guard let file = try? store.open(digest), file.size == size else { return nil }
        // Until the seam's `BlobReader.fileHandle()` lands: the store's own file, by its path.
        return try? NIOFileHandle(_deprecatedPath: file.path)
    }

    /// Checks the blob is still there and records the access (HEAD and 304 touch it as GET does).
    func touch(_ digest: BlobDigest, size: Int64) -> Bool {
        guard let file = try? store.open(digest) else { return false }
        return file.size == size
    }
}
