#if canImport(Glibc)
import Glibc
#endif

/// The HMAC secret for bearer tokens, kept in `<root>/token.key` (mode 0600) so tokens survive a
/// restart. Created with 32 random bytes the first time; only this process's user can read it.
enum TokenKey {
    static let length = 32

    static func loadOrCreate(root: String) throws(TokenKeyError) -> [UInt8] {
        let path = root + "/token.key"
        if let existing = try read(path) { return existing }
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            // Another start raced us to it: use theirs.
            if errno == EEXIST, let existing = try read(path) { return existing }
            throw .io(path, errno)
        }
        defer { close(fd) }
        let written = secret.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == secret.count, fsync(fd) == 0 else { throw .io(path, errno) }
        return secret
    }

    private static func read(_ path: String) throws(TokenKeyError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw .io(path, errno)
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n >= length else { throw .tooShort(path) }
        return Array(buffer[0..<n])
    }
}

enum TokenKeyError: Error, CustomStringConvertible {
    case io(String, Int32)
    case tooShort(String)

    var description: String {
        switch self {
        case .io(let path, let code): "token key \(path): \(String(cString: strerror(code)))"
        case .tooShort(let path): "token key \(path) holds fewer than \(TokenKey.length) bytes; delete it to have hoard make a new one"
        }
    }
}
