#if canImport(Glibc)
import Glibc
#endif

/// An open, committed blob. Reads are positional (`pread`), so one handle serves any number of
/// concurrent readers, and an evicted blob stays readable until its last handle closes.
public final class BlobFile: Sendable {
    public let digest: BlobDigest
    public let size: Int64
    public let path: String
    private let fd: Int32

    init(digest: BlobDigest, path: String) throws(StoreError) {
        let fd = try POSIX.open(path, O_RDONLY)
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let code = errno
            close(fd)
            throw StoreError.posix("fstat", path, code)
        }
        self.digest = digest
        self.path = path
        self.size = Int64(st.st_size)
        self.fd = fd
    }

    deinit { close(fd) }

    /// Reads up to `buffer.count` bytes at `offset`; returns how many were read (0 at the end).
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(StoreError) -> Int {
        try POSIX.pread(fd, into: buffer, offset: offset, path: path)
    }

    /// Reads a small blob whole. For documents the server keeps in memory, never for packages.
    public func readAll(limit: Int64) throws(StoreError) -> [UInt8] {
        guard size <= limit else { throw .sizeMismatch(expected: limit, actual: size) }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        var offset = 0
        var failure: StoreError?
        bytes.withUnsafeMutableBytes { raw in
            do throws(StoreError) {
                while offset < raw.count {
                    let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: raw[offset...]), at: Int64(offset))
                    if n == 0 { break }
                    offset += n
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        guard offset == bytes.count else { throw .sizeMismatch(expected: size, actual: Int64(offset)) }
        return bytes
    }
}
