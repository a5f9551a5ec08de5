import Foundation
import NIOCore
import Synchronization
import Testing
@testable import HoardStore

/// Two nodes over one bucket: two `Store`s with their own roots (SQLite index, lock), one
/// `MemoryBlobStore` and one `MemorySharedObjects` between them, as several hoard processes share
/// an S3 bucket. What one node names must be found by the other, through the bucket alone.
struct TwoNodes: ~Copyable {
    let blobs = MemoryBlobStore()
    let objects = MemorySharedObjects()
    let rootA = TemporaryDirectory()
    let rootB = TemporaryDirectory()

    func open(_ root: borrowing TemporaryDirectory) async throws -> Store {
        try await Store.open(root: root.path, blobs: blobs, shared: objects)
    }
}

@Suite struct SharedIndexCondaTests {
    static let key = CondaFileKey(channel: "conda-forge", subdir: "noarch", filename: "fx-lib-1.0-0.conda")

    @Test func aPackageNamedOnOneNodeIsFoundOnTheOther() async throws {
        let nodes = TwoNodes()
        let a = try await nodes.open(nodes.rootA)
        let b = try await nodes.open(nodes.rootB)
        let bytes = randomBytes(1000)
        let record = try await a.ingest(bytes: bytes)
        try await a.index.setCondaFile(Self.key, digest: record.digest)
        // A shard's filename has a slash: still one name.
        let shard = CondaFileKey(channel: "conda-forge", subdir: "noarch", filename: "shards/\(record.digest.hex).msgpack.zst")
        try await a.index.setCondaFile(shard, digest: record.digest)

        #expect(try await b.index.condaFile(Self.key) == record.digest)
        #expect(try await b.index.condaFile(shard) == record.digest)
        #expect(try await b.existingBlob(record.digest)?.size == 1000)
        #expect(try await b.index.condaPackageFilenames(channel: "conda-forge", label: "", subdir: "noarch") == [Self.key.filename])
        #expect(try await b.index.condaPackages(channel: "conda-forge", subdir: "noarch")[Self.key.filename]?.digest == record.digest)
        #expect(try await b.index.condaFiles(channel: "conda-forge").map(\.key.filename).sorted() == [Self.key.filename, shard.filename].sorted())
        #expect(try await b.index.condaChannels() == ["conda-forge"])
        #expect(try await b.index.condaSubdirSummaries().map(\.files) == [1])
        #expect(try await b.index.condaFilesHeld(channel: "conda-forge", label: "", subdir: "noarch", filenames: [Self.key.filename, "x.conda"])
            == [Self.key.filename])
        // Another channel's name is not this one's.
        #expect(try await b.index.condaFile(CondaFileKey(channel: "conda-forge-x", subdir: "noarch", filename: Self.key.filename)) == nil)
    }

    @Test func aBlobCommittedOnOneNodeIsNotIngestedAgainOnTheOther() async throws {
        let nodes = TwoNodes()
        let a = try await nodes.open(nodes.rootA)
        let b = try await nodes.open(nodes.rootB)
        let bytes = randomBytes(2000)
        let digest = try await a.ingest(bytes: bytes).digest
        #expect(try await b.index.blob(digest) == nil)
        // B's pull-through asks for the digest it expects: the bytes are never read again.
        let record = try await b.ingest(RefusedBody(), expectedDigest: digest, expectedSize: 2000)
        #expect(record.digest == digest && record.size == 2000)
        #expect(try await b.index.blob(digest) != nil, "B did not adopt the blob's row")
        #expect(try await b.contains(digest))
    }

    @Test func aNameWhoseBlobIsGoneFromTheBucketIsAMiss() async throws {
        let nodes = TwoNodes()
        let a = try await nodes.open(nodes.rootA)
        let b = try await nodes.open(nodes.rootB)
        let digest = try await a.ingest(bytes: randomBytes(100)).digest
        try await a.index.setCondaFile(Self.key, digest: digest)
        #expect(try await b.existingBlob(#require(try await b.index.condaFile(Self.key))) != nil)

        // Another node's eviction removed the blob (its names first, but B cached one).
        try await nodes.blobs.delete(digest)
        #expect(try await b.existingBlob(digest) == nil)
        #expect(try await b.index.blob(digest) == nil, "the cached row of a blob the bucket lost must go")
        #expect(try await b.index.condaFiles(channel: "conda-forge").isEmpty == false, "the bucket still names it")

        // The shared name removed too: listings no longer show it on B.
        try await nodes.objects.delete(SharedIndex.condaKey(Self.key))
        #expect(try await b.index.condaPackageFilenames(channel: "conda-forge", label: "", subdir: "noarch").isEmpty)
        #expect(try await b.index.condaFile(Self.key) == nil)
    }

    @Test func theSharedRecordIsWrittenBeforeTheLocalRow() async throws {
        let nodes = TwoNodes()
        let a = try await nodes.open(nodes.rootA)
        let digest = try await a.ingest(bytes: randomBytes(10)).digest
        try await a.index.setCondaFile(Self.key, digest: digest)
        let record = try #require(try await SharedIndex(objects: nodes.objects).read(SharedCondaFile.self, at: SharedIndex.condaKey(Self.key)))
        #expect(record.value == SharedCondaFile(digest: digest.hex, size: 10))
        // A name of a blob not committed is refused before anything is shared.
        let missing = BlobDigest.of(randomBytes(8))
        await #expect(throws: (any Error).self) { try await a.index.setCondaFile(CondaFileKey(channel: "c", subdir: "s", filename: "f.conda"), digest: missing) }
        #expect(try await nodes.objects.list(prefix: SharedKey(path: "index/conda/c/")).isEmpty)
    }

    @Test func infoLayersRecordedOnOneNodeAreFoundOnTheOther() async throws {
        let nodes = TwoNodes()
        let a = try await nodes.open(nodes.rootA)
        let b = try await nodes.open(nodes.rootB)
        let row = CondaInfoLayersRow(
            archive: .of(randomBytes(4)), subdir: "noarch", recipe: 1, infoTarGz: .of(randomBytes(4)), infoTarGzSize: 40,
            indexJSON: .of(randomBytes(4)), indexJSONSize: 12)
        try await a.index.saveCondaInfoLayers(row)
        #expect(try await b.index.condaInfoLayers(archive: row.archive, subdir: "noarch") == row)
        #expect(try await b.index.condaInfoLayers(archive: row.archive, subdir: "linux-64") == nil)
        let rootC = TemporaryDirectory()
        let other = try await nodes.open(rootC)
        #expect(try await other.index.condaInfoLayers(layer: row.indexJSON) == [row])
        #expect(try await other.index.condaInfoLayers(layer: row.infoTarGz) == [row])
    }

    @Test func recoveryInSharedModeDoesNotListTheBucket() async throws {
        let nodes = TwoNodes()
        let counting = CountingBlobStore(nodes.blobs)
        _ = try await Store.open(root: nodes.rootA.path, blobs: counting, shared: nodes.objects)
        #expect(counting.entriesCalls == 0)
        // One node (no shared index) reconciles as always.
        _ = try await Store.open(root: nodes.rootB.path, blobs: counting)
        #expect(counting.entriesCalls == 1)
    }
}

/// A body that fails if anyone reads it (a re-ingest of a blob the store already holds).
struct RefusedBody: AsyncSequence, Sendable {
    struct Refused: Error {}
    struct AsyncIterator: AsyncIteratorProtocol {
        mutating func next() async throws -> ByteBuffer? { throw Refused() }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator() }
}

/// The memory backend, counting how often all of it is listed (what a bucket makes expensive).
final class CountingBlobStore: BlobStore {
    let base: MemoryBlobStore
    private let calls = Mutex(0)
    init(_ base: MemoryBlobStore) { self.base = base }
    var entriesCalls: Int { calls.withLock { $0 } }

    var uploads: any BlobUploads { base.uploads }
    func size(of digest: BlobDigest) async throws(StoreError) -> Int64? { try await base.size(of: digest) }
    func open(_ digest: BlobDigest) async throws(StoreError) -> any BlobReader { try await base.open(digest) }
    func makeWriter(expectedDigest: BlobDigest?, expectedSize: Int64?, readersFirst: Bool) async throws(StoreError) -> any BlobWriter {
        try await base.makeWriter(expectedDigest: expectedDigest, expectedSize: expectedSize, readersFirst: readersFirst)
    }
    func delete(_ digest: BlobDigest) async throws(StoreError) { try await base.delete(digest) }
    func prepare() async throws(StoreError) {}
    func removeLeftovers() async throws(StoreError) -> Int { 0 }
    func entries() async throws(StoreError) -> [BlobStoreEntry] {
        calls.withLock { $0 += 1 }
        return try await base.entries()
    }
    func removeForeign(_ entry: BlobStoreEntry) async throws(StoreError) {}
}
