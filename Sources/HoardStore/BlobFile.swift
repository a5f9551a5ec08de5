#if canImport(Glibc)
import Glibc
#endif

/// An open file read with positional reads (`pread`): one handle serves any number of
/// concurrent readers, and a file removed while open stays readable until its last handle closes.
public final class FileReader: Sendable {
    public let path: String
    /// The size when it was opened (a file being filled keeps growing).
    public let size: Int64
    private let fd: Int32

    public init(path: String) throws(StoreError) {
        let fd = try POSIX.open(path, O_RDONLY)
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let code = errno
            close(fd)
            throw StoreError.posix("fstat", path, code)
        }
        self.path = path
        self.size = Int64(st.st_size)
        self.fd = fd
    }

    deinit { close(fd) }

    /// Reads up to `buffer.count` bytes at `offset`; returns how many were read (0 at the end).
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(StoreError) -> Int {
        try POSIX.pread(fd, into: buffer, offset: offset, path: path)
    }

    /// Reads `count` bytes at `offset` whole (fewer only at the end of the file).
    public func read(count: Int, at offset: Int64) throws(StoreError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        var failure: StoreError?
        bytes.withUnsafeMutableBytes { raw in
            do throws(StoreError) {
                while filled < count {
                    let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]), at: offset + Int64(filled))
                    if n == 0 { break }
                    filled += n
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        if filled < count { bytes.removeLast(count - filled) }
        return bytes
    }

    /// Maps the file read-only and lends its bytes, for scanning large documents without
    /// copying them; the kernel pages them in as they are touched.
    public func withMappedBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard size > 0 else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard let base = mmap(nil, Int(size), PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw StoreError.posix("mmap", path)
        }
        defer { munmap(base, Int(size)) }
        return try body(UnsafeRawBufferPointer(start: base, count: Int(size)))
    }
}

/// An open, committed blob.
public final class BlobFile: Sendable {
    public let digest: BlobDigest
    public let reader: FileReader
    public var size: Int64 { reader.size }
    public var path: String { reader.path }

    init(digest: BlobDigest, path: String) throws(StoreError) {
        self.digest = digest
        self.reader = try FileReader(path: path)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(StoreError) -> Int {
        try reader.read(into: buffer, at: offset)
    }

    /// Reads a small blob whole. For documents the server keeps in memory, never for packages.
    public func readAll(limit: Int64) throws(StoreError) -> [UInt8] {
        guard size <= limit else { throw .sizeMismatch(expected: limit, actual: size) }
        let bytes = try reader.read(count: Int(size), at: 0)
        guard bytes.count == Int(size) else { throw .sizeMismatch(expected: size, actual: Int64(bytes.count)) }
        return bytes
    }
}
