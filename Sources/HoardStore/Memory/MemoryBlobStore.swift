import Foundation
import NIOCore
import Synchronization

/// Blobs held in memory: a second backend behind the seam, for tests and as the plainest
/// statement of the contract the conformance suite holds every backend to.
///
/// It keeps the file backend's promises: a blob is visible only once its bytes are complete and
/// verified, it never changes, a reader opened before a delete reads on to the end (it holds the
/// bytes), and a tail reader follows an ingest and keeps working after its commit. It keeps no
/// local files, so `fileHandle()` is nil. Nothing here blocks: copies and hashing are memory
/// work, done on the caller's thread.
public final class MemoryBlobStore: BlobStore {
    let table = MemoryBlobTable()
    public let uploads: any BlobUploads

    public init() {
        uploads = MemoryBlobUploads(table: table)
    }

    public func size(of digest: BlobDigest) async throws(StoreError) -> Int64? {
        table.blob(digest).map { Int64($0.count) }
    }

    public func open(_ digest: BlobDigest) async throws(StoreError) -> any BlobReader {
        guard let bytes = table.blob(digest) else { throw .blobNotFound(digest) }
        return MemoryBlobReader(digest: digest, bytes: bytes)
    }

    public func makeWriter(expectedDigest: BlobDigest?, expectedSize: Int64?, readersFirst: Bool) async throws(StoreError) -> any BlobWriter {
        MemoryBlobWriter(table: table, expectedDigest: expectedDigest, expectedSize: expectedSize)
    }

    public func delete(_ digest: BlobDigest) async throws(StoreError) {
        table.remove(digest)
    }

    // MARK: Maintenance

    public func prepare() async throws(StoreError) {}

    /// Nothing outlives the process, so a crash leaves nothing behind.
    public func removeLeftovers() async throws(StoreError) -> Int { 0 }

    public func entries() async throws(StoreError) -> [BlobStoreEntry] {
        table.digests.sorted { $0.digest < $1.digest }.map {
            BlobStoreEntry(digest: $0.digest, location: "memory:\($0.digest)", size: $0.size, lastModified: $0.committed)
        }
    }

    /// Only blobs are ever held, so there is nothing foreign to remove.
    public func removeForeign(_ entry: BlobStoreEntry) async throws(StoreError) {}

    /// Ingests neither committed nor cancelled (what the file backend leaves as `tmp/ingest`
    /// files); the conformance suite checks that none are left behind.
    public var ingestsInProgress: Int { table.ingestsInProgress }
}

/// The committed blobs and the count of ingests under way, shared by the store, its writers and
/// its upload sessions.
final class MemoryBlobTable: Sendable {
    private struct State {
        var blobs: [BlobDigest: [UInt8]] = [:]
        /// When each blob was published (an object's LastModified).
        var committed: [BlobDigest: Date] = [:]
        var ingests = 0
    }
    private let state = Mutex(State())

    func blob(_ digest: BlobDigest) -> [UInt8]? {
        state.withLock { $0.blobs[digest] }
    }

    var digests: [(digest: BlobDigest, size: Int64, committed: Date?)] {
        state.withLock { state in state.blobs.map { ($0.key, Int64($0.value.count), state.committed[$0.key]) } }
    }

    /// Publishes verified bytes; identical bytes already there stay (blobs never change).
    func publish(_ digest: BlobDigest, _ bytes: [UInt8]) {
        state.withLock { state in
            if state.blobs[digest] == nil {
                state.blobs[digest] = bytes
                state.committed[digest] = Date()
            }
        }
    }

    func remove(_ digest: BlobDigest) {
        state.withLock { state in
            state.blobs[digest] = nil
            state.committed[digest] = nil
        }
    }

    func ingestStarted() { state.withLock { $0.ingests += 1 } }
    func ingestEnded() { state.withLock { $0.ingests -= 1 } }
    var ingestsInProgress: Int { state.withLock { $0.ingests } }
}
