import Crypto
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Streams one blob into the store: bytes go to a temp file under `tmp/ingest/`, hashed as they
/// are written (never read back), and the file is renamed into `blobs/` only when its digest and
/// size match what the caller expected.
///
/// A writer belongs to one task at a time (it may move between tasks and threads, hence
/// `@unchecked Sendable`, but is never used by two at once). Whatever happens (an error, a cancelled request, a
/// crash), the blob directory only ever gains complete files whose bytes hash to their name.
public final class BlobWriter: @unchecked Sendable {
    /// Where the bytes are going; readers may follow this file while it grows.
    public let tempPath: String
    public let expectedDigest: BlobDigest?
    public let expectedSize: Int64?
    public private(set) var bytesWritten: Int64 = 0

    private let layout: StoreLayout
    private var fd: Int32
    private var hasher = SHA256()
    private var verified: BlobDigest?

    init(layout: StoreLayout, expectedDigest: BlobDigest?, expectedSize: Int64?) throws(StoreError) {
        self.layout = layout
        self.expectedDigest = expectedDigest
        self.expectedSize = expectedSize
        self.tempPath = "\(layout.ingestDirectory)/\(BlobWriter.randomName()).part"
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

    /// Appends bytes; fails early when more arrive than the expected size allows.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(StoreError) {
        guard fd >= 0 else { throw .writerClosed }
        if let expectedSize, bytesWritten + Int64(bytes.count) > expectedSize {
            abort()
            throw .sizeMismatch(expected: expectedSize, actual: bytesWritten + Int64(bytes.count))
        }
        do {
            try POSIX.writeAll(fd, bytes, path: tempPath)
        } catch {
            abort()
            throw error
        }
        hasher.update(bufferPointer: bytes)
        bytesWritten += Int64(bytes.count)
    }

    public func write(_ buffer: ByteBuffer) throws(StoreError) {
        // withUnsafeReadableBytes rethrows untyped errors: carry ours out by hand.
        var failure: StoreError?
        buffer.withUnsafeReadableBytes { bytes in
            do throws(StoreError) { try write(bytes) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    public func write(_ bytes: [UInt8]) throws(StoreError) {
        var failure: StoreError?
        bytes.withUnsafeBytes { raw in
            do throws(StoreError) { try write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Verifies, makes the bytes durable and renames them into place. Returns the digest and size.
    /// On a mismatch the temp file is removed and the error names both digests.
    public func commit() async throws(StoreError) -> (digest: BlobDigest, size: Int64) {
        let actual = try verify()
        let fd = self.fd
        let temp = tempPath
        let layout = self.layout
        self.fd = -1
        do {
            // fsync can take a while on a large file: keep it off the cooperative pool.
            try await NIOThreadPool.singleton.runIfActive {
                defer { close(fd) }
                try POSIX.fsync(fd, path: temp)
                let directory = layout.fanoutDirectory(actual)
                try POSIX.makeDirectories(directory)
                // Concurrent ingests of one digest each rename identical bytes: last one wins, harmlessly.
                try POSIX.rename(temp, layout.blobPath(actual))
                try POSIX.fsyncDirectory(directory)
            }
        } catch {
            unlink(temp)
            throw (error as? StoreError) ?? .io(operation: "commit", path: temp, errno: EIO)
        }
        return (actual, bytesWritten)
    }

    /// Checks the digest and size of everything written against what was expected, without
    /// publishing anything yet: once this returns, the bytes are known good (the commit that
    /// follows only makes them durable and names them). On a mismatch nothing is kept.
    @discardableResult
    public func verify() throws(StoreError) -> BlobDigest {
        guard fd >= 0 else { throw .writerClosed }
        if let verified { return verified }
        let actual = BlobDigest(hasher.finalize())
        if let expectedSize, expectedSize != bytesWritten {
            abort()
            throw .sizeMismatch(expected: expectedSize, actual: bytesWritten)
        }
        if let expectedDigest, expectedDigest != actual {
            abort()
            throw .digestMismatch(expected: expectedDigest, actual: actual)
        }
        verified = actual
        return actual
    }

    /// The bytes written so far, mapped read-only: a check of the whole body (a document's parse)
    /// before anything is committed, without the caller knowing the blob is a file.
    public func withWrittenBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try FileReader(path: tempPath).withMappedBytes(body)
    }

    /// Discards everything written so far.
    public func abort() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        unlink(tempPath)
    }

    private static func randomName() -> String {
        var generator = SystemRandomNumberGenerator()
        let a = generator.next() as UInt64
        let b = generator.next() as UInt64
        return String(a, radix: 16) + String(b, radix: 16)
    }
}
