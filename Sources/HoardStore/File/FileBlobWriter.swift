import Crypto
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Streams one blob into a temp file under `tmp/ingest/`, hashed as it is written (never read
/// back); the file is renamed into `blobs/` only when its digest and size match what the caller
/// expected.
///
/// Used by one task at a time (`BlobWriter`'s rule; hence `@unchecked Sendable`: the descriptor
/// and hasher move between the task and the I/O pool, never shared). Only `bytesWritten` is read
/// by others (fills report it to their readers), so it is atomic. Whatever happens (an error, a
/// cancelled request, a crash), the blob directory only ever gains complete files whose bytes
/// hash to their name.
final class FileBlobWriter: BlobWriter, @unchecked Sendable {
    let expectedDigest: BlobDigest?
    let expectedSize: Int64?
    var bytesWritten: Int64 { written.load(ordering: .acquiring) }

    private let tempPath: String
    private let layout: StoreLayout
    private let io: BlobIO
    private let written = Atomic<Int64>(0)
    private var fd: Int32
    private var hasher = SHA256()
    private var verified: BlobDigest?
    /// Where the bytes are once committed (a tail reader opened later reads them there).
    private let published = Mutex<String?>(nil)

    init(layout: StoreLayout, io: BlobIO, expectedDigest: BlobDigest?, expectedSize: Int64?) throws(StoreError) {
        self.layout = layout
        self.io = io
        self.expectedDigest = expectedDigest
        self.expectedSize = expectedSize
        self.tempPath = "\(layout.ingestDirectory)/\(Self.randomName()).part"
        // A blob that cannot fit is refused before its first byte: the client gets a clear error
        // rather than a transfer that breaks halfway (ENOSPC while writing still aborts cleanly).
        if let expectedSize, let available = POSIX.availableBytes(layout.ingestDirectory), expectedSize > available {
            throw .diskFull(path: layout.ingestDirectory)
        }
        self.fd = try POSIX.open(tempPath, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    }

    deinit {
        if fd >= 0 {
            close(fd)
            unlink(tempPath)
        }
    }

    func write(_ buffer: ByteBuffer) async throws(StoreError) {
        guard buffer.readableBytes > 0 else { return }
        try await io.run(tempPath) { () throws(StoreError) in
            var failure: StoreError?
            buffer.withUnsafeReadableBytes { bytes in
                do throws(StoreError) { try self.writeBlocking(bytes) } catch { failure = error }
            }
            if let failure { throw failure }
        }
    }

    func writeBlocking(_ bytes: UnsafeRawBufferPointer) throws(StoreError) {
        guard fd >= 0 else { throw .writerClosed }
        let before = bytesWritten
        if let expectedSize, before + Int64(bytes.count) > expectedSize {
            cancel()
            throw .sizeMismatch(expected: expectedSize, actual: before + Int64(bytes.count))
        }
        do {
            try POSIX.writeAll(fd, bytes, path: tempPath)
        } catch {
            cancel()
            throw error
        }
        hasher.update(bufferPointer: bytes)
        written.store(before + Int64(bytes.count), ordering: .releasing)
    }

    func commit() async throws(StoreError) -> (digest: BlobDigest, size: Int64) {
        let actual = try verify()
        let fd = self.fd
        let temp = tempPath
        let target = layout.blobPath(actual)
        let directory = layout.fanoutDirectory(actual)
        self.fd = -1
        do {
            try await io.runDurable(temp) { () throws(StoreError) in
                defer { close(fd) }
                try POSIX.fsync(fd, path: temp)
                try POSIX.makeDirectories(directory)
                // Concurrent ingests of one digest each rename identical bytes: last one wins, harmlessly.
                try POSIX.rename(temp, target)
                try POSIX.fsyncDirectory(directory)
            }
        } catch {
            unlink(temp)
            throw error
        }
        published.withLock { $0 = target }
        return (actual, bytesWritten)
    }

    @discardableResult
    func verify() throws(StoreError) -> BlobDigest {
        guard fd >= 0 else { throw .writerClosed }
        if let verified { return verified }
        let actual = BlobDigest(hasher.finalize())
        if let expectedSize, expectedSize != bytesWritten {
            cancel()
            throw .sizeMismatch(expected: expectedSize, actual: bytesWritten)
        }
        if let expectedDigest, expectedDigest != actual {
            cancel()
            throw .digestMismatch(expected: expectedDigest, actual: actual)
        }
        verified = actual
        return actual
    }

    func cancel() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        unlink(tempPath)
    }

    func withWrittenBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try makeTailReader().withContiguousBytes(body)
    }

    func makeTailReader() throws(StoreError) -> any BlobReader {
        let path = published.withLock { $0 } ?? tempPath
        // Its digest means nothing until the bytes are verified; the expected one is the best name.
        guard let reader = try FileBlobReader.open(path: path, digest: expectedDigest ?? .empty, io: io) else {
            throw .writerClosed
        }
        return reader
    }

    private static func randomName() -> String {
        var generator = SystemRandomNumberGenerator()
        let a = generator.next() as UInt64
        let b = generator.next() as UInt64
        return String(a, radix: 16) + String(b, radix: 16)
    }
}
