import Foundation
import HoardS3
import HoardS3TestSupport
import NIOCore
import Testing
@testable import HoardStore

/// The node's local copies of bucket blobs: bounded, least recently used first out, never the
/// judge of whether a blob exists.
@Suite struct LocalBlobCacheTests {
    /// A scratch file holding `bytes`, as a committed ingest's spool would.
    private func scratch(_ bytes: [UInt8], in directory: String) throws -> ScratchFile {
        let spool = ScratchDirectory(path: directory + "/spool")
        try spool.create()
        let file = try spool.makeFile(suffix: "part")
        try bytes.withUnsafeBytes { try file.append($0) }
        return file
    }

    /// Whether the reader has a file to send (closed at once: NIO traps on a leaked handle).
    private func isLocalFile(_ reader: any BlobReader) throws -> Bool {
        guard let handle = try reader.fileHandle() else { return false }
        try handle.close()
        return true
    }

    private func chunks(_ bytes: [UInt8]) -> AsyncStream<ByteBuffer> {
        AsyncStream { continuation in
            for start in stride(from: 0, to: bytes.count, by: 1000) {
                continuation.yield(ByteBuffer(bytes: bytes[start..<min(start + 1000, bytes.count)]))
            }
            continuation.finish()
        }
    }

    @Test func anAdoptedSpoolIsServedFromDiskWithAFileHandle() async throws {
        let directory = TemporaryDirectory()
        let cache = LocalBlobCache(path: directory.path + "/cache", limit: 1 << 20)
        try await cache.prepare()
        let bytes = randomBlob(10_000)
        let digest = BlobDigest.of(bytes)
        #expect(await cache.open(digest) == nil)

        let file = try scratch(bytes, in: directory.path)
        #expect(await cache.adopt(file, as: digest, size: Int64(bytes.count)))
        #expect(filesIn(directory.path + "/spool") == [], "the spool file was moved, not copied")
        let reader = try #require(await cache.open(digest))
        #expect(try await readAll(reader) == bytes)
        // What lets the server send it with sendfile.
        #expect(try isLocalFile(reader))
        #expect(cache.usage == (1, 10_000))
    }

    @Test func theLeastRecentlyUsedCopiesGoFirstBeyondTheLimit() async throws {
        let directory = TemporaryDirectory()
        // A copy may take a quarter of the limit: four of 1,000 bytes fit, a fifth pushes one out.
        let cache = LocalBlobCache(path: directory.path + "/cache", limit: 4_000)
        try await cache.prepare()
        let blobs = (0..<5).map { _ in randomBlob(1_000) }
        let digests = blobs.map(BlobDigest.of)
        for i in 0..<4 {
            #expect(await cache.adopt(try scratch(blobs[i], in: directory.path), as: digests[i], size: 1_000))
        }
        // The oldest is read again: the second-oldest is now the least recently used.
        #expect(await cache.open(digests[0]) != nil)
        #expect(await cache.adopt(try scratch(blobs[4], in: directory.path), as: digests[4], size: 1_000))
        #expect(await cache.open(digests[1]) == nil)
        for i in [0, 2, 3, 4] { #expect(await cache.open(digests[i]) != nil, "copy \(i)") }
        #expect(cache.usage == (4, 4_000))
        #expect(filesIn(cache.path).count == 4)

        // Too big for the cache (over a quarter of the limit): not kept, the caller removes it.
        let big = randomBlob(1_001)
        #expect(await cache.adopt(try scratch(big, in: directory.path), as: BlobDigest.of(big), size: 1_001) == false)
    }

    @Test func aFillKeepsOnlyACompleteCopy() async throws {
        let directory = TemporaryDirectory()
        let cache = LocalBlobCache(path: directory.path + "/cache", limit: 1 << 20)
        try await cache.prepare()
        let bytes = randomBlob(5_500)
        let digest = BlobDigest.of(bytes)

        // Cut short, or longer than the bucket said: nothing is kept.
        await cache.fill(digest, size: 5_500) { self.chunks(Array(bytes.prefix(4_000))) }
        await cache.fill(digest, size: 5_000) { self.chunks(bytes) }
        // The bucket no longer has it.
        await cache.fill(digest, size: 5_500) { nil as AsyncStream<ByteBuffer>? }
        #expect(await cache.open(digest) == nil)
        #expect(filesIn(cache.path) == [], "partial copies left behind")

        await cache.fill(digest, size: 5_500) { self.chunks(bytes) }
        let reader = try #require(await cache.open(digest))
        #expect(try await readAll(reader) == bytes)

        await cache.remove(digest)
        #expect(await cache.open(digest) == nil)
        #expect(filesIn(cache.path) == [])
    }

    @Test func aRestartTakesStockOfTheCopiesAndDropsTheRest() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/cache"
        let bytes = randomBlob(2_000)
        let digest = BlobDigest.of(bytes)
        do {
            let cache = LocalBlobCache(path: path, limit: 1 << 20)
            try await cache.prepare()
            #expect(await cache.adopt(try scratch(bytes, in: directory.path), as: digest, size: 2_000))
        }
        // What a crash mid-fill leaves, and something that is not a copy.
        FileManager.default.createFile(atPath: path + "/0123abcd.fill", contents: Data([1, 2, 3]))
        FileManager.default.createFile(atPath: path + "/notes.txt", contents: Data([4]))

        let cache = LocalBlobCache(path: path, limit: 1 << 20)
        try await cache.prepare()
        #expect(filesIn(path) == [digest.hex])
        #expect(cache.usage == (1, 2_000))
        #expect(try await readAll(try #require(await cache.open(digest))) == bytes)
    }

    // MARK: In the S3 backend

    @Test func aNodeServesWhatItWroteAndWhatItReadOnceFromItsOwnDisk() async throws {
        let bucket = try await S3Bucket(.moto, cached: true)
        let other = try await bucket.node("b", cached: true)
        let bytes = randomBlob(300_000)
        let digest = try await put(bucket.store, bytes, expectedDigest: BlobDigest.of(bytes)).digest

        // The writer's node kept its spool as the copy.
        let written = try await bucket.store.open(digest)
        #expect(try isLocalFile(written))
        #expect(try await readAll(written) == bytes)

        // Another node reads the bucket the first time (no local file) and keeps a copy.
        let first = try await other.open(digest)
        #expect(try !isLocalFile(first))
        #expect(try await readAll(first) == bytes)
        await other.settle()
        let second = try await other.open(digest)
        #expect(try isLocalFile(second))
        #expect(try await readAll(second) == bytes)

        // Deleted through the first node: the bucket says so on every node, copy or not.
        try await bucket.store.delete(digest)
        #expect(try await bucket.store.size(of: digest) == nil)
        #expect(try await other.size(of: digest) == nil)
        await #expect(throws: StoreError.self) { _ = try await bucket.store.open(digest) }
        try await bucket.expectNothingLeftBehind()
    }
}
