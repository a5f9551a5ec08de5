import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// A blob file opened read-only, read with `pread` on the store's I/O pool: one descriptor serves
/// any number of concurrent readers, and a file removed (evicted) or renamed (a committed ingest)
/// while open stays readable until the reader goes away.
final class FileBlobReader: BlobReader {
    let digest: BlobDigest
    let size: Int64
    let path: String
    private let fd: Int32
    private let io: BlobIO

    /// Opens `path`; nil when there is no such file.
    static func open(path: String, digest: BlobDigest, io: BlobIO) throws(StoreError) -> FileBlobReader? {
        guard let fd = try POSIX.openIfPresent(path, O_RDONLY) else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let code = errno
            close(fd)
            throw StoreError.posix("fstat", path, code)
        }
        return FileBlobReader(fd: fd, path: path, digest: digest, size: Int64(st.st_size), io: io)
    }

    private init(fd: Int32, path: String, digest: BlobDigest, size: Int64, io: BlobIO) {
        self.fd = fd
        self.path = path
        self.digest = digest
        self.size = size
        self.io = io
    }

    deinit { close(fd) }

    func read(at offset: Int64, count: Int) async throws(StoreError) -> ByteBuffer {
        guard count > 0 else { return ByteBuffer() }
        return try await io.run(path) { () throws(StoreError) -> ByteBuffer in try self.readBlocking(at: offset, count: count) }
    }

    /// Fills one buffer with up to `count` bytes at `offset` (fewer only at the end of the file).
    func readBlocking(at offset: Int64, count: Int) throws(StoreError) -> ByteBuffer {
        try FileBytes.read(fd, at: offset, count: count, path: path)
    }

    /// Maps the file as it is now (a tail reader's file grows) and lends its bytes.
    func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try FileBytes.withMapped(fd, path: path, body)
    }

    func fileHandle() throws(StoreError) -> NIOFileHandle? {
        // A duplicate with close-on-exec (a child process, a credential helper, must not
        // inherit it): the caller closes it whenever it likes, independently of this reader.
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { throw StoreError.posix("dup", path) }
        // A file with no name left was removed from the store (evicted, `verify --repair`, by
        // hand): its bytes are still readable here, but the store no longer holds the blob.
        var st = stat()
        guard fstat(copy, &st) == 0, st.st_nlink > 0, Int64(st.st_size) == size else {
            close(copy)
            return nil
        }
        return NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: copy)
    }
}
