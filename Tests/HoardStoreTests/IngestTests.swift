import Crypto
import Foundation
import NIOCore
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import HoardStore

@Suite struct IngestTests {
    @Test func ingestStoresBytesUnderTheirDigest() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        let bytes = randomBytes(300_000)
        let record = try await store.ingest(bytes: bytes)

        #expect(record.digest == BlobDigest(SHA256.hash(data: bytes)))
        #expect(record.size == 300_000)
        let path = store.layout.blobPath(record.digest)
        #expect(path.hasSuffix("/blobs/sha256/\(record.digest.hex.prefix(2))/\(record.digest.hex)"))
        #expect(FileManager.default.contents(atPath: path) == Data(bytes))
        #expect(try await store.index.blob(record.digest)?.size == 300_000)
        #expect(filesIn(store.layout.ingestDirectory).isEmpty)
    }

    @Test func streamingIngestChecksExpectedDigestAndSize() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        let bytes = randomBytes(1 << 20)
        let digest = BlobDigest(SHA256.hash(data: bytes))
        let chunks = stride(from: 0, to: bytes.count, by: 65536).map { ByteBuffer(bytes: bytes[$0..<min($0 + 65536, bytes.count)]) }
        let record = try await store.ingest(chunks.async, expectedDigest: digest, expectedSize: Int64(bytes.count))
        #expect(record.digest == digest)
        let reader = try await store.open(digest)
        #expect(try await reader.readAll(limit: 1 << 21) == bytes)
    }

    @Test func digestMismatchKeepsNothingAndNamesBothDigests() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        let bytes = randomBytes(10_000)
        let wrong = BlobDigest.of([1, 2, 3])
        let actual = BlobDigest(SHA256.hash(data: bytes))
        let writer = try await store.makeWriter(expectedDigest: wrong)
        try await writer.write(ByteBuffer(bytes: bytes))
        await #expect(throws: StoreError.digestMismatch(expected: wrong, actual: actual)) {
            try await store.commit(writer)
        }
        let message = StoreError.digestMismatch(expected: wrong, actual: actual).description
        #expect(message.contains(wrong.description) && message.contains(actual.description))
        #expect(try await store.blobs.size(of: actual) == nil)
        #expect(try await store.blobs.size(of: wrong) == nil)
        #expect(try await store.index.blob(actual) == nil)
        #expect(filesIn(store.layout.ingestDirectory).isEmpty)
    }

    @Test func sizeMismatchIsCaughtWhileWriting() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        let writer = try await store.makeWriter(expectedSize: 10)
        await #expect(throws: StoreError.sizeMismatch(expected: 10, actual: 11)) {
            try await writer.write(ByteBuffer(bytes: randomBytes(11)))
        }
        #expect(filesIn(store.layout.ingestDirectory).isEmpty)

        let short = try await store.makeWriter(expectedSize: 10)
        try await short.write(ByteBuffer(bytes: randomBytes(5)))
        await #expect(throws: StoreError.sizeMismatch(expected: 10, actual: 5)) {
            try await store.commit(short)
        }
        #expect(try await store.totals().count == 0)
    }

    @Test func concurrentIngestsOfOneDigestStoreOneBlob() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        let bytes = randomBytes(2 << 20)
        let digests = try await withThrowingTaskGroup(of: BlobDigest.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    let writer = try await store.makeWriter(expectedDigest: BlobDigest.of(bytes))
                    for start in stride(from: 0, to: bytes.count, by: 100_000) {
                        try await writer.write(ByteBuffer(bytes: bytes[start..<min(start + 100_000, bytes.count)]))
                        await Task.yield()
                    }
                    return try await store.commit(writer).digest
                }
            }
            return try await group.reduce(into: Set<BlobDigest>()) { $0.insert($1) }
        }
        #expect(digests.count == 1)
        let digest = try #require(digests.first)
        #expect(filesIn(store.layout.fanoutDirectory(digest)) == [digest.hex])
        #expect(try await store.totals() == (1, Int64(bytes.count)))
        #expect(filesIn(store.layout.ingestDirectory).isEmpty)
        #expect(try await store.open(digest).readAll(limit: 3 << 20) == bytes)
    }

    @Test func rangedReadsAndMissingBlobs() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        let bytes = Array("hello, content-addressed world".utf8)
        let record = try await store.ingest(bytes: bytes)
        let reader = try await store.open(record.digest)
        #expect(Array(buffer: try await reader.read(at: 7, count: 7)) == Array("content".utf8))
        // Fewer bytes only at the end.
        #expect(Array(buffer: try await reader.read(at: 25, count: 100)) == Array("world".utf8))
        #expect(try await reader.read(at: 100, count: 10).readableBytes == 0)
        #expect(try await store.contains(record.digest))
        let absent = BlobDigest.of([9])
        await #expect(throws: StoreError.blobNotFound(absent)) { try await store.open(absent) }
        #expect(try await !store.contains(absent))
    }

    @Test func aTailReaderFollowsAnIngestAndOutlivesItsCommit() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        let bytes = randomBytes(300_000)
        let writer = try await store.makeWriter(expectedDigest: BlobDigest.of(bytes), expectedSize: Int64(bytes.count))
        let tail = try writer.makeTailReader()
        try await writer.write(ByteBuffer(bytes: bytes[..<100_000]))
        #expect(writer.bytesWritten == 100_000)
        #expect(Array(buffer: try await tail.read(at: 0, count: 100_000)) == Array(bytes[..<100_000]))
        try await writer.write(ByteBuffer(bytes: bytes[100_000...]))
        #expect(try writer.withWrittenBytes { Array($0) } == bytes)
        let record = try await store.commit(writer)
        #expect(record.digest == BlobDigest.of(bytes) && record.size == 300_000)
        // Renamed into place: the same reader reads on, and a new one opens the blob.
        #expect(Array(buffer: try await tail.read(at: 250_000, count: 50_000)) == Array(bytes[250_000...]))
        #expect(Array(buffer: try await writer.makeTailReader().read(at: 0, count: 10)) == Array(bytes[..<10]))
        #expect(filesIn(store.layout.ingestDirectory).isEmpty)
    }

    @Test func aFileHandleIsTheCallersOwnCopy() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        let bytes = randomBytes(5000)
        let record = try await store.ingest(bytes: bytes)
        let reader = try await store.open(record.digest)
        let handle = try #require(try reader.fileHandle())
        let fromHandle = try handle.withUnsafeFileDescriptor { fd in
            var copy = [UInt8](repeating: 0, count: 5000)
            let n = copy.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 5000, 0) }
            return Array(copy[..<max(0, n)])
        }
        #expect(fromHandle == bytes)
        try handle.close()
        // Closing the caller's handle leaves the reader's own descriptor open.
        #expect(Array(buffer: try await reader.read(at: 0, count: 5000)) == bytes)
    }

    @Test func aSecondProcessCannotOpenAStoreInUse() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        // flock is per open file description: a second open in this process conflicts too.
        await #expect {
            _ = try await Store.open(root: dir.path)
        } throws: { error in
            guard case StoreError.locked = error else { return false }
            return true
        }
        _ = store
    }
}

extension Array where Element: Sendable {
    var async: AsyncArray<Element> { AsyncArray(elements: self) }
}

struct AsyncArray<Element: Sendable>: AsyncSequence, Sendable {
    let elements: [Element]
    struct AsyncIterator: AsyncIteratorProtocol {
        var iterator: IndexingIterator<[Element]>
        mutating func next() async -> Element? { iterator.next() }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(iterator: elements.makeIterator()) }
}
