import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One hoard process per store: an exclusive `flock` on `<root>/lock`, released by the kernel
/// when the process exits, however it exits.
final class StoreLock: Sendable {
    private let fd: Int32

    init(path: String, root: String) throws(StoreError) {
        let fd = try POSIX.open(path, O_RDWR | O_CREAT, 0o644)
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            var holder = [UInt8](repeating: 0, count: 64)
            let n = holder.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            close(fd)
            guard code == EWOULDBLOCK else { throw .posix("flock", path, code) }
            let text = n > 0 ? String(decoding: holder[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "unknown"
            throw .locked(root: root, holder: "pid \(text)")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.fd = fd
    }

    deinit { close(fd) }
}
