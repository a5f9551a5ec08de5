import Crypto
import Foundation
import NIOCore
import Testing
@testable import HoardStore

/// The storage conformance suite: the promises every `BlobStore` keeps, checked against each
/// backend through the protocols only (as CNCF distribution's storage driver `testsuites` does for
/// its drivers). A new backend adds a case to `BlobStoreBackend` and must pass unchanged.
///
/// What the contract promises, beyond the obvious:
/// - A blob is visible (`size`, `open`, `enumerate`) only once a writer's commit verified its
///   digest and size; a mismatch, a cancel or a failed write leaves nothing, not even an ingest.
/// - `read(at:count:)` returns `count` bytes, fewer only at the end, none at or past the end.
/// - A reader opened before a delete reads the blob to its end (on files the open handle keeps
///   the bytes; a remote backend must delete late enough to keep this promise, e.g. after a
///   grace period longer than any read). Opens after the delete get `blobNotFound`, and the
///   old reader's `fileHandle()` is nil.
/// - A tail reader sees each write once `write` returns, and keeps reading after the commit.
@Suite struct BlobStoreConformance {
    @Test(arguments: BlobStoreBackend.allCases)
    func anAbsentBlobHasNoSizeAndCannotBeOpened(_ backend: BlobStoreBackend) async throws {
        // Every `try` here is inside a macro: say that the closure throws.
        try await backend.withStore { (store) async throws in
            let digest = BlobDigest.of(Array("never written".utf8))
            #expect(try await store.size(of: digest) == nil)
            await #expect(throws: StoreError.blobNotFound(digest)) { try await store.open(digest) }
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func aCommittedBlobReadsWholeAndAtEveryOffset(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let bytes = randomBlob(100_003)
            let digest = BlobDigest.of(bytes)
            let committed = try await put(store, bytes, expectedDigest: digest, expectedSize: Int64(bytes.count))
            #expect(committed.digest == digest && committed.size == 100_003)
            #expect(try await store.size(of: digest) == 100_003)

            let reader = try await store.open(digest)
            #expect(reader.digest == digest && reader.size == 100_003)
            #expect(try await readAll(reader) == bytes)
            #expect(Array(buffer: try await reader.read(at: 0, count: bytes.count)) == bytes)
            #expect(Array(buffer: try await reader.read(at: 1000, count: 5000)) == Array(bytes[1000..<6000]))
            #expect(Array(buffer: try await reader.read(at: 99_999, count: 1)) == [bytes[99_999]])
            // A read spanning the end gets what there is; at or past the end, nothing.
            #expect(Array(buffer: try await reader.read(at: 100_000, count: 100)) == Array(bytes[100_000...]))
            #expect(try await reader.read(at: 100_003, count: 10).readableBytes == 0)
            #expect(try await reader.read(at: 1 << 40, count: 10).readableBytes == 0)
            #expect(try await reader.read(at: 50, count: 0).readableBytes == 0)
            // A count far past the end is what there is, never an allocation of that size.
            #expect(Array(buffer: try await reader.read(at: 3, count: Int.max)) == Array(bytes[3...]))
            // A negative offset is the caller's mistake: an error, never bytes from elsewhere.
            await #expect(throws: StoreError.self) { try await reader.read(at: -1, count: 10) }
            #expect(try reader.withContiguousBytes { Array($0) } == bytes)
            // A local file, where the backend has one, holds exactly the blob.
            if let handle = try reader.fileHandle() {
                defer { try? handle.close() }
                #expect(try contents(of: handle) == bytes)
            }
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func aDigestMismatchKeepsNothingAndNamesBothDigests(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let bytes = randomBlob(10_000)
            let wrong = BlobDigest.of(Array("other".utf8))
            let actual = BlobDigest.of(bytes)
            let writer = try await store.makeWriter(expectedDigest: wrong, expectedSize: nil)
            try await writer.write(ByteBuffer(bytes: bytes))
            await #expect(throws: StoreError.digestMismatch(expected: wrong, actual: actual)) { try await writer.commit() }
            let message = StoreError.digestMismatch(expected: wrong, actual: actual).description
            #expect(message.contains(wrong.description) && message.contains(actual.description))
            #expect(try await store.size(of: actual) == nil)
            #expect(try await store.size(of: wrong) == nil)
            #expect(try await enumerate(store).isEmpty)
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func aSizeMismatchKeepsNothingAndNamesBothSizes(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let bytes = randomBlob(5)
            let writer = try await store.makeWriter(expectedDigest: BlobDigest.of(bytes), expectedSize: 10)
            try await writer.write(ByteBuffer(bytes: bytes))
            await #expect(throws: StoreError.sizeMismatch(expected: 10, actual: 5)) { try await writer.commit() }
            let message = StoreError.sizeMismatch(expected: 10, actual: 5).description
            #expect(message.contains("expected 10") && message.contains("got 5"))
            #expect(try await store.size(of: BlobDigest.of(bytes)) == nil)
            #expect(try await enumerate(store).isEmpty)
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func tooManyBytesFailTheWriteThatBringsThem(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let writer = try await store.makeWriter(expectedDigest: nil, expectedSize: 10)
            try await writer.write(ByteBuffer(bytes: randomBlob(6)))
            await #expect(throws: StoreError.sizeMismatch(expected: 10, actual: 12)) {
                try await writer.write(ByteBuffer(bytes: randomBlob(6)))
            }
            // The writer ended its ingest itself.
            await #expect(throws: StoreError.writerClosed) { try await writer.commit() }
            #expect(try await enumerate(store).isEmpty)
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func aCancelledIngestLeavesNothing(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let bytes = randomBlob(70_000)
            let writer = try await store.makeWriter(expectedDigest: BlobDigest.of(bytes), expectedSize: nil)
            try await writer.write(ByteBuffer(bytes: bytes))
            #expect(writer.bytesWritten == 70_000)
            writer.cancel()
            writer.cancel()  // twice is harmless
            await #expect(throws: StoreError.writerClosed) { try await writer.commit() }
            await #expect(throws: StoreError.writerClosed) { try await writer.write(ByteBuffer(bytes: [1])) }
            #expect(try await store.size(of: BlobDigest.of(bytes)) == nil)
            #expect(try await enumerate(store).isEmpty)
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func verifyChecksWithoutPublishing(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let bytes = randomBlob(3000)
            let writer = try await store.makeWriter(expectedDigest: BlobDigest.of(bytes), expectedSize: 3000)
            try await writer.write(ByteBuffer(bytes: bytes))
            #expect(try writer.verify() == BlobDigest.of(bytes))
            #expect(try writer.withWrittenBytes { Array($0) } == bytes)
            #expect(try await store.size(of: BlobDigest.of(bytes)) == nil)
            #expect(try await writer.commit().digest == BlobDigest.of(bytes))
            #expect(try await store.size(of: BlobDigest.of(bytes)) == 3000)
            await #expect(throws: StoreError.writerClosed) { try await writer.write(ByteBuffer(bytes: [1])) }
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func concurrentWritersOfOneDigestBothSucceedAndMakeOneBlob(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let bytes = randomBlob(1 << 20)
            let digest = BlobDigest.of(bytes)
            // Every writer has written everything before any commits: the commits race.
            let writers = try await withThrowingTaskGroup(of: (any BlobWriter).self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let writer = try await store.makeWriter(expectedDigest: digest, expectedSize: Int64(bytes.count))
                        for start in stride(from: 0, to: bytes.count, by: 100_000) {
                            try await writer.write(ByteBuffer(bytes: bytes[start..<min(start + 100_000, bytes.count)]))
                        }
                        return writer
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let results = try await withThrowingTaskGroup(of: BlobDigest.self) { group in
                for writer in writers { group.addTask { try await writer.commit().digest } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results == Array(repeating: digest, count: 8))
            #expect(try await enumerate(store).map(\.digest) == [digest])
            #expect(try await readAll(try await store.open(digest)) == bytes)
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func concurrentReadersEachReadTheirOwnRanges(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let bytes = randomBlob(3 << 20)
            let digest = try await put(store, bytes).digest
            let reader = try await store.open(digest)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<12 {
                    group.addTask {
                        // One shared reader and one of its own, from scattered offsets, in odd steps.
                        let mine = task.isMultiple(of: 2) ? reader : try await store.open(digest)
                        var offset = Int.random(in: 0..<bytes.count)
                        let step = [4093, 65_537, 300_007][task % 3]
                        while offset < bytes.count {
                            let chunk = try await mine.read(at: Int64(offset), count: step)
                            #expect(Array(buffer: chunk) == Array(bytes[offset..<min(offset + step, bytes.count)]))
                            offset += step
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func deleteRemovesABlobAndAbsentIsFine(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let kept = try await put(store, randomBlob(100)).digest
            let gone = try await put(store, randomBlob(200)).digest
            try await store.delete(gone)
            #expect(try await store.size(of: gone) == nil)
            await #expect(throws: StoreError.blobNotFound(gone)) { try await store.open(gone) }
            try await store.delete(gone)
            try await store.delete(BlobDigest.of(Array("never written".utf8)))
            #expect(try await store.size(of: kept) == 100)
            #expect(try await enumerate(store).map(\.digest) == [kept])
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func aReaderOpenedBeforeADeleteReadsToTheEnd(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let bytes = randomBlob(200_000)
            let digest = try await put(store, bytes).digest
            let reader = try await store.open(digest)
            let head = try await reader.read(at: 0, count: 1000)
            try await store.delete(digest)
            #expect(Array(buffer: head) + Array(buffer: try await reader.read(at: 1000, count: bytes.count)) == bytes)
            await #expect(throws: StoreError.blobNotFound(digest)) { try await store.open(digest) }
            // A reader kept across the delete no longer offers a local file: whoever caches
            // readers (the fast path) learns there that the store dropped the blob.
            #expect(try reader.fileHandle() == nil)
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func aTailReaderFollowsAnIngestAndReadsOnAfterTheCommit(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let bytes = randomBlob(300_001)
            let digest = BlobDigest.of(bytes)
            let writer = try await store.makeWriter(expectedDigest: digest, expectedSize: Int64(bytes.count))
            let tail = try writer.makeTailReader()
            #expect(try await tail.read(at: 0, count: 100).readableBytes == 0)
            var written = 0
            for step in [1, 65_536, 99_999, 134_465] {
                try await writer.write(ByteBuffer(bytes: bytes[written..<written + step]))
                // Everything written so far is readable at once, nothing beyond it.
                let seen = try await tail.read(at: Int64(written), count: step + 10)
                #expect(Array(buffer: seen) == Array(bytes[written..<written + step]))
                written += step
                #expect(writer.bytesWritten == Int64(written))
            }
            // Still not a blob until the commit.
            #expect(try await store.size(of: digest) == nil)
            _ = try await writer.commit()
            #expect(try await readAll(tail, upTo: bytes.count) == bytes)
            #expect(try await readAll(try await store.open(digest)) == bytes)
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func enumerationListsCommittedBlobsOnly(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            var expected: [BlobDigest: Int64] = [:]
            for size in [0, 1, 4097, 70_000] {
                let committed = try await put(store, randomBlob(size))
                expected[committed.digest] = committed.size
            }
            let pending = try await store.makeWriter(expectedDigest: nil, expectedSize: nil)
            try await pending.write(ByteBuffer(bytes: randomBlob(5000)))
            let failed = try await store.makeWriter(expectedDigest: BlobDigest.of([1]), expectedSize: nil)
            try await failed.write(ByteBuffer(bytes: [2]))
            _ = try? await failed.commit()

            let listed = try await enumerate(store)
            #expect(Dictionary(uniqueKeysWithValues: listed.map { ($0.digest, $0.size) }) == expected)
            pending.cancel()
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func aLargeBlobWrittenInOddChunksReadsBackExactly(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let bytes = randomBlob(6 << 20 + 17)
            let digest = BlobDigest.of(bytes)
            let writer = try await store.makeWriter(expectedDigest: digest, expectedSize: Int64(bytes.count))
            var offset = 0
            var steps = [1, 4093, 65_537, 1_000_003, 7, 262_139].makeIterator()
            while offset < bytes.count {
                let step = steps.next() ?? { steps = [1, 4093, 65_537, 1_000_003, 7, 262_139].makeIterator(); return 3 }()
                let end = min(offset + step, bytes.count)
                try await writer.write(ByteBuffer(bytes: bytes[offset..<end]))
                offset = end
            }
            #expect(try await writer.commit() == (digest, Int64(bytes.count)))
            let reader = try await store.open(digest)
            #expect(reader.size == Int64(bytes.count))
            var hasher = SHA256()
            var position: Int64 = 0
            while true {
                let chunk = try await reader.read(at: position, count: 1_048_573)
                if chunk.readableBytes == 0 { break }
                chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                position += Int64(chunk.readableBytes)
            }
            #expect(position == Int64(bytes.count))
            #expect(BlobDigest(hasher.finalize()) == digest)
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func anEmptyBlobIsABlob(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let writer = try await store.makeWriter(expectedDigest: .empty, expectedSize: 0)
            #expect(try await writer.commit() == (BlobDigest.empty, 0))
            #expect(try await store.size(of: .empty) == 0)
            let reader = try await store.open(.empty)
            #expect(reader.size == 0)
            #expect(try await reader.read(at: 0, count: 10).readableBytes == 0)
            #expect(try reader.withContiguousBytes { $0.count } == 0)
            #expect(try await enumerate(store).map(\.digest) == [.empty])
        }
    }
}

// MARK: Helpers

/// Writes `bytes` as one blob in chunks and commits it.
@discardableResult
func put(_ store: any BlobStore, _ bytes: [UInt8], expectedDigest: BlobDigest? = nil, expectedSize: Int64? = nil)
    async throws -> (digest: BlobDigest, size: Int64)
{
    let writer = try await store.makeWriter(expectedDigest: expectedDigest, expectedSize: expectedSize)
    for start in stride(from: 0, to: bytes.count, by: 65_536) {
        try await writer.write(ByteBuffer(bytes: bytes[start..<min(start + 65_536, bytes.count)]))
    }
    return try await writer.commit()
}

/// A reader's bytes from the start, read in chunks until a read comes back empty (or `limit`).
func readAll(_ reader: any BlobReader, upTo limit: Int = .max) async throws -> [UInt8] {
    var bytes: [UInt8] = []
    while bytes.count < limit {
        let chunk = try await reader.read(at: Int64(bytes.count), count: min(40_009, limit - bytes.count))
        if chunk.readableBytes == 0 { break }
        bytes += Array(buffer: chunk)
    }
    return bytes
}

func contents(of handle: NIOFileHandle) throws -> [UInt8] {
    try handle.withUnsafeFileDescriptor { fd in
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(bytes.count)) }
            if n <= 0 { return bytes }
            bytes += chunk[0..<n]
        }
    }
}
