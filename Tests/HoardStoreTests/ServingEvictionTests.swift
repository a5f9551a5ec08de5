import Foundation
import Testing
@testable import HoardStore

/// Eviction never removes a blob while a reader of it is alive (it is being served).
@Suite struct ServingEvictionTests {
    @Test func aBlobBeingReadIsKeptUntilItsReaderIsGone() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        let served = try await store.ingest(bytes: randomBytes(1000))
        let idle = try await store.ingest(bytes: randomBytes(1000))
        // The served blob is the least recently used: it would go first.
        let t = Date().timeIntervalSince1970 + 1000
        try await store.index.recordAccess([served.digest: t + 1, idle.digest: t + 2])

        var reader: (any BlobReader)? = try await store.open(served.digest)
        #expect(store.isServing(served.digest))
        // `open` noted an access of its own: make the served blob the oldest again.
        try await store.flushAccessTimes()
        try await store.index.recordAccess([served.digest: t + 3, idle.digest: t + 4])

        let first = try await Evictor(store: store, limit: ByteSize(bytes: 0)).run()
        #expect(first.removedBlobs == 1)
        #expect(first.remainingBytes == 1000)
        #expect(try await store.contains(served.digest))
        #expect(try await !store.contains(idle.digest))
        // The reader still reads every byte.
        let bytes = try await reader?.readAll(limit: 1 << 20)
        #expect(bytes?.count == 1000)

        reader = nil
        #expect(!store.isServing(served.digest))
        let second = try await Evictor(store: store, limit: ByteSize(bytes: 0)).run()
        #expect(second.removedBlobs == 1)
        #expect(try await !store.contains(served.digest))
    }

    @Test func releaseHookRunsBeforeTheServedCheck() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        let blob = try await store.ingest(bytes: randomBytes(500))
        // A cache holding an idle reader lets go of it when told the candidates.
        let cache = ReaderCache(try await store.open(blob.digest))
        let report = try await Evictor(store: store, limit: ByteSize(bytes: 0)) { candidates in
            if candidates.contains(blob.digest) { cache.drop() }
        }.run()
        #expect(report.removedBlobs == 1)
        #expect(try await !store.contains(blob.digest))
    }
}

private final class ReaderCache: @unchecked Sendable {
    private let lock = NSLock()
    private var reader: (any BlobReader)?
    init(_ reader: any BlobReader) { self.reader = reader }
    func drop() { lock.withLock { reader = nil } }
}
