import Crypto
import Foundation
import NIOCore
import Testing
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
        let file = try store.open(digest)
        #expect(try file.readAll(limit: 1 << 21) == bytes)
    }

    @Test func digestMismatchKeepsNothingAndNamesBothDigests() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        let bytes = randomBytes(10_000)
        let wrong = BlobDigest.of([1, 2, 3])
        let actual = BlobDigest(SHA256.hash(data: bytes))
        let writer = try store.makeWriter(expectedDigest: wrong)
        try writer.write(bytes)
        await #expect(throws: StoreError.digestMismatch(expected: wrong, actual: actual)) {
            try await store.commit(writer)
        }
        let message = StoreError.digestMismatch(expected: wrong, actual: actual).description
        #expect(message.contains(wrong.description) && message.contains(actual.description))
        #expect(try store.blobs.size(of: actual) == nil)
        #expect(try store.blobs.size(of: wrong) == nil)
        #expect(try await store.index.blob(actual) == nil)
        #expect(filesIn(store.layout.ingestDirectory).isEmpty)
    }

    @Test func sizeMismatchIsCaughtWhileWriting() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        let writer = try store.makeWriter(expectedSize: 10)
        #expect(throws: StoreError.sizeMismatch(expected: 10, actual: 11)) {
            try writer.write(randomBytes(11))
        }
        #expect(filesIn(store.layout.ingestDirectory).isEmpty)

        let short = try store.makeWriter(expectedSize: 10)
        try short.write(randomBytes(5))
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
                    let writer = try store.makeWriter(expectedDigest: BlobDigest.of(bytes))
                    for start in stride(from: 0, to: bytes.count, by: 100_000) {
                        try writer.write(Array(bytes[start..<min(start + 100_000, bytes.count)]))
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
        #expect(try store.open(digest).readAll(limit: 3 << 20) == bytes)
    }

    @Test func rangedReadsAndMissingBlobs() async throws {
        let dir = TemporaryDirectory()
        let store = try await Store.open(root: dir.path)
        let bytes = Array("hello, content-addressed world".utf8)
        let record = try await store.ingest(bytes: bytes)
        let file = try store.open(record.digest)
        var buffer = [UInt8](repeating: 0, count: 7)
        let n = try buffer.withUnsafeMutableBytes { try file.read(into: $0, at: 7) }
        #expect(n == 7 && buffer == Array("content".utf8))
        #expect(try await store.contains(record.digest))
        let absent = BlobDigest.of([9])
        #expect(throws: StoreError.blobNotFound(absent)) { try store.open(absent) }
        #expect(try await !store.contains(absent))
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
