import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Positional reads and mappings of an open file: what a blob file's reader and a scratch file
/// both do. BLOCKING: call these on an I/O pool.
enum FileBytes {
    /// Fills one buffer with up to `count` bytes at `offset` (fewer only at the end of the file).
    /// Allocates only what the file holds past `offset` now (a tail reader's file grows): a
    /// caller's large `count` never becomes a large allocation.
    static func read(_ fd: Int32, at offset: Int64, count requested: Int, path: String) throws(StoreError) -> ByteBuffer {
        let remaining = max(0, try size(fd, path: path) - max(0, offset))
        let count = Int(min(Int64(requested), remaining))
        guard count > 0 else {
            if offset < 0 { throw StoreError.io(operation: "pread", path: path, errno: EINVAL) }
            return ByteBuffer()
        }
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        var failure: StoreError?
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
            var filled = 0
            do throws(StoreError) {
                while filled < count {
                    let target = UnsafeMutableRawBufferPointer(rebasing: raw[filled..<count])
                    let n = try POSIX.pread(fd, into: target, offset: offset + Int64(filled), path: path)
                    if n == 0 { break }
                    filled += n
                }
            } catch {
                failure = error
            }
            return filled
        }
        if let failure { throw failure }
        return buffer
    }

    static func size(_ fd: Int32, path: String) throws(StoreError) -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StoreError.posix("fstat", path) }
        return Int64(st.st_size)
    }

    /// Maps the file as it is now and lends its bytes; the kernel pages them in as touched.
    static func withMapped<R>(_ fd: Int32, path: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let length = Int(try size(fd, path: path))
        guard length > 0 else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard let base = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw StoreError.posix("mmap", path)
        }
        defer { munmap(base, length) }
        return try body(UnsafeRawBufferPointer(start: base, count: length))
    }
}
