import HoardStore

#if canImport(Glibc)
import Glibc
#endif

/// The HMAC secret for bearer tokens, kept in `<root>/token.key` (mode 0600) so tokens survive a
/// restart. Created with 32 random bytes the first time; only this process's user can read it.
/// Nodes on one bucket share theirs in the bucket (`keys/oci-token`): a balancer sends a client's
/// token request to one node and its pushes to others, and each must accept the token.
enum TokenKey {
    static let length = 32
    static let sharedKey = SharedKey(path: "keys/oci-token")

    /// The store's secret: in the shared objects when the store has them (created there by the
    /// first node to start, kept by every later one), else under the root.
    static func load(for store: Store) async throws -> [UInt8] {
        guard let shared = store.index.shared?.objects else {
            return try loadOrCreate(root: store.layout.root)
        }
        if let existing = try await shared.get(sharedKey) { return try checked(existing.bytes) }
        let secret = random()
        if try await shared.put(sharedKey, secret, when: .ifAbsent) != nil { return secret }
        // Another node created it first: use theirs.
        guard let theirs = try await shared.get(sharedKey) else { throw TokenKeyError.vanished(sharedKey.path) }
        return try checked(theirs.bytes)
    }

    private static func checked(_ bytes: [UInt8]) throws(TokenKeyError) -> [UInt8] {
        guard bytes.count >= length else { throw .tooShort(sharedKey.path + " in the bucket") }
        return bytes
    }

    private static func random() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func loadOrCreate(root: String) throws(TokenKeyError) -> [UInt8] {
        let path = root + "/token.key"
        if let existing = try read(path) { return existing }
        let secret = random()
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
    case vanished(String)

    var description: String {
        switch self {
        case .vanished(let key): "token key \(key) in the bucket was created by another node and removed again before it could be read; start again"

        case .io(let path, let code): "token key \(path): \(String(cString: strerror(code)))"
        case .tooShort(let path): "token key \(path) holds fewer than \(TokenKey.length) bytes; delete it to have hoard make a new one"
        }
    }
}
