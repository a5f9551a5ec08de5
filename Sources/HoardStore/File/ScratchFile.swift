import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// A node-local directory of scratch files, for a backend that keeps its blobs elsewhere (the S3
/// backend's spool under the root's `tmp/s3-spool`). Only this target touches files: the backend
/// gets `ScratchFile` handles and readers, never paths to open or descriptors.
///
/// Every method BLOCKS (system calls): call them on the backend's I/O pool.
public struct ScratchDirectory: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Creates the directory (and its parents) when missing.
    public func create() throws(StoreError) {
        try POSIX.makeDirectories(path)
    }

    /// Removes every file in it (what a crash left: the store lock says none is in use); returns
    /// how many there were.
    public func removeAll() throws(StoreError) -> Int {
        let names = try POSIX.listDirectory(path)
        for name in names { try POSIX.unlinkIfPresent(path + "/" + name) }
        return names.count
    }

    /// Bytes a writer may still use there, or nil when the system cannot say.
    public func availableBytes() -> Int64? {
        POSIX.availableBytes(path)
    }

    /// A new, empty file with a random name ending in `.suffix`.
    public func makeFile(suffix: String) throws(StoreError) -> ScratchFile {
        var generator = SystemRandomNumberGenerator()
        let name = String(generator.next() as UInt64, radix: 16) + String(generator.next() as UInt64, radix: 16)
        let path = "\(path)/\(name).\(suffix)"
        return ScratchFile(fd: try POSIX.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600), path: path)
    }
}

/// One open scratch file: appended to by one writer, read at any offset, mapped whole. Its name
/// can go (`removeName()`) while it stays readable through this handle and its readers; the
/// descriptor closes when the last of them goes.
///
/// The methods BLOCK (system calls), except `makeReader`'s reader, which reads on a pool.
public final class ScratchFile: Sendable {
    /// Where it is, for messages.
    public let path: String
    private let fd: Int32

    fileprivate init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// Appends all of `bytes`; a full disk is `.diskFull`.
    public func append(_ bytes: UnsafeRawBufferPointer) throws(StoreError) {
        try POSIX.writeAll(fd, bytes, path: path)
    }

    /// Up to `count` bytes at `offset` (fewer only at the end of the file).
    public func read(at offset: Int64, count: Int) throws(StoreError) -> ByteBuffer {
        try FileBytes.read(fd, at: offset, count: count, path: path)
    }

    /// What the file holds now.
    public func size() throws(StoreError) -> Int64 {
        try FileBytes.size(fd, path: path)
    }

    /// Maps the file as it is now and lends its bytes.
    public func withMapped<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try FileBytes.withMapped(fd, path: path, body)
    }

    /// Removes the file's name; its bytes stay readable here and through every reader.
    public func removeName() {
        _ = unlink(path)
    }

    /// A reader of what the file holds (growing, for a tail reader), on its own descriptor so it
    /// outlives this handle; its reads run on `pool`. `digest` names it (it means nothing until
    /// the bytes are verified).
    public func makeReader(digest: BlobDigest, pool: NIOThreadPool) throws(StoreError) -> any BlobReader {
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { throw StoreError.posix("dup", path) }
        return ScratchFileReader(file: ScratchFile(fd: copy, path: path), digest: digest, pool: pool)
    }
}

/// Reads a scratch file on a thread pool; no file handle to send (it is not where blobs live).
final class ScratchFileReader: BlobReader {
    let digest: BlobDigest
    private let file: ScratchFile
    private let pool: NIOThreadPool

    init(file: ScratchFile, digest: BlobDigest, pool: NIOThreadPool) {
        self.file = file
        self.digest = digest
        self.pool = pool
    }

    /// What the file holds now (a tail reader's file grows).
    var size: Int64 { (try? file.size()) ?? 0 }

    func read(at offset: Int64, count: Int) async throws(StoreError) -> ByteBuffer {
        guard count > 0 else { return ByteBuffer() }
        let file = file
        return try await BlobIO.run(on: pool, file.path) { () throws(StoreError) in try file.read(at: offset, count: count) }
    }

    func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try file.withMapped(body)
    }

    func fileHandle() throws(StoreError) -> NIOFileHandle? { nil }
}
