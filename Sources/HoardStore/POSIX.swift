#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin, throwing wrappers over the system calls the store needs; they retry on EINTR.
enum POSIX {
    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) throws(StoreError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw StoreError.posix("open", path) }
        }
    }

    /// Like `open`, but a file that does not exist is nil rather than an error.
    static func openIfPresent(_ path: String, _ flags: Int32) throws(StoreError) -> Int32? {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, 0)
            if fd >= 0 { return fd }
            if errno == ENOENT { return nil }
            if errno != EINTR { throw StoreError.posix("open", path) }
        }
    }

    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws(StoreError) {
        var offset = 0
        while offset < buffer.count {
            let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError.posix("write", path)
            }
            offset += n
        }
    }

    /// Reads up to `count` bytes at `offset`; returns how many were read (0 at end of file).
    static func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, offset: Int64, path: String) throws(StoreError) -> Int {
        while true {
            let n = Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno != EINTR { throw StoreError.posix("read", path) }
        }
    }

    static func fsync(_ fd: Int32, path: String) throws(StoreError) {
        if Glibc.fsync(fd) != 0 { throw StoreError.posix("fsync", path) }
    }

    /// fsyncs a directory so that a rename inside it survives a power cut.
    static func fsyncDirectory(_ path: String) throws(StoreError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: path)
    }

    static func rename(_ from: String, _ to: String) throws(StoreError) {
        if Glibc.rename(from, to) != 0 { throw StoreError.posix("rename", to) }
    }

    /// Removes a file; a file that is already gone is not an error.
    static func unlinkIfPresent(_ path: String) throws(StoreError) {
        if Glibc.unlink(path) != 0 && errno != ENOENT { throw StoreError.posix("unlink", path) }
    }

    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws(StoreError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw StoreError.posix("mkdir", current)
            }
        }
    }

    /// Size of a regular file, or nil when there is none.
    static func fileSize(_ path: String) throws(StoreError) -> Int64? {
        var st = stat()
        if fstatat(AT_FDCWD, path, &st, 0) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw StoreError.posix("stat", path)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    /// Names in a directory, without `.` and `..`; a missing directory is empty.
    static func listDirectory(_ path: String) throws(StoreError) -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw StoreError.posix("opendir", path)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return fstatat(AT_FDCWD, path, &st, 0) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Removes a file or a whole directory tree.
    static func removeTree(_ path: String) throws(StoreError) {
        if isDirectory(path) {
            for name in try listDirectory(path) { try removeTree(path + "/" + name) }
            if rmdir(path) != 0 && errno != ENOENT { throw StoreError.posix("rmdir", path) }
        } else {
            try unlinkIfPresent(path)
        }
    }

    /// Bytes an unprivileged writer may still use on the file system holding `path`, or nil when
    /// the system cannot say.
    static func availableBytes(_ path: String) -> Int64? {
        var st = statvfs()
        guard statvfs(path, &st) == 0 else { return nil }
        let (bytes, overflow) = Int64(clamping: st.f_bavail).multipliedReportingOverflow(by: Int64(clamping: st.f_frsize))
        return overflow ? Int64.max : bytes
    }
}
