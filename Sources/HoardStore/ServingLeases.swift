import NIOCore
import Synchronization

/// Which blobs are being served right now: every reader the store hands out holds a lease on
/// its blob until the reader goes away (the response that streams it is done, the cache entry
/// that keeps it is dropped). Eviction skips leased blobs, so it never removes what is being
/// served, nor counts as freed the space an open file still holds.
final class ServingLeases: Sendable {
    private let counts = Mutex<[BlobDigest: Int]>([:])

    func take(_ digest: BlobDigest) -> BlobLease {
        counts.withLock { $0[digest, default: 0] += 1 }
        return BlobLease(digest: digest, leases: self)
    }

    fileprivate func release(_ digest: BlobDigest) {
        counts.withLock { counts in
            let left = (counts[digest] ?? 1) - 1
            counts[digest] = left > 0 ? left : nil
        }
    }

    func isLeased(_ digest: BlobDigest) -> Bool {
        counts.withLock { $0[digest] != nil }
    }

    var leasedCount: Int { counts.withLock { $0.count } }

    /// Those of `digests` not leased, read under one lock.
    func unleased(_ digests: [BlobDigest]) -> [BlobDigest] {
        counts.withLock { counts in digests.filter { counts[$0] == nil } }
    }
}

/// One reader's hold on its blob; released when the reader is freed.
final class BlobLease: Sendable {
    let digest: BlobDigest
    private let leases: ServingLeases

    fileprivate init(digest: BlobDigest, leases: ServingLeases) {
        self.digest = digest
        self.leases = leases
    }

    deinit { leases.release(digest) }
}

/// A reader as `Store.open` hands it out: the backend's reader plus the lease on its blob.
final class LeasedBlobReader: BlobReader {
    let base: any BlobReader
    private let lease: BlobLease

    init(_ base: any BlobReader, lease: BlobLease) {
        self.base = base
        self.lease = lease
    }

    var digest: BlobDigest { base.digest }
    var size: Int64 { base.size }

    func read(at offset: Int64, count: Int) async throws(StoreError) -> ByteBuffer {
        try await base.read(at: offset, count: count)
    }

    func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try base.withContiguousBytes(body)
    }

    func fileHandle() throws(StoreError) -> NIOFileHandle? {
        try base.fileHandle()
    }
}
