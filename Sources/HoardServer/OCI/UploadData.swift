import HoardOCI
import HoardStore
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Appends request bytes to an upload session's `data` file.
struct UploadAppender: ~Copyable {
    let path: String
    private let fd: Int32

    init(path: String) throws(OCIError) {
        fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw UploadAppender.failure("open", path) }
        self.path = path
    }

    deinit { close(fd) }

    func append(_ buffer: ByteBuffer) throws(OCIError) {
        let failed = buffer.withUnsafeReadableBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return true
                }
                offset += n
            }
            return false
        }
        if failed { throw UploadAppender.failure("write", path) }
    }

    static func failure(_ operation: String, _ path: String) -> OCIError {
        let code = errno  // before anything else can change it
        if code == ENOSPC || code == EDQUOT {
            return OCIError(.blobUploadInvalid, StoreError.diskFull(path: path).description, status: 507)
        }
        return OCIError(.blobUploadInvalid, "\(operation) \(path): \(String(cString: strerror(code)))", status: 500)
    }
}

/// Feeds bytes to the store's writer and, for a digest of another algorithm (sha512), to a second
/// hasher: the store names blobs by sha256, the client may have asked for sha512.
struct VerifyingSink {
    let writer: any BlobWriter
    private var hasher: DigestHasher?
    let digest: OCIDigest

    init(store: Store, digest: OCIDigest) async throws(StoreError) {
        self.digest = digest
        if digest.algorithm == .sha256 {
            writer = try await store.makeWriter(expectedDigest: try BlobDigest(parsing: digest.hex))
            hasher = nil
        } else {
            writer = try await store.makeWriter()
            hasher = DigestHasher(digest.algorithm)
        }
    }

    mutating func write(_ buffer: ByteBuffer) async throws(StoreError) {
        try await writer.write(buffer)
        buffer.withUnsafeReadableBytes { hasher?.update(bufferPointer: $0) }
    }

    /// Verifies against the client's digest, then commits pinned. Nothing is kept on a mismatch.
    func commit(into store: Store) async throws -> BlobRecord {
        if let hasher {
            let actual = hasher.finalize()
            guard actual == digest else {
                writer.cancel()
                throw OCIError(.digestInvalid, "the uploaded bytes hash to \(actual), not \(digest); nothing was stored")
            }
        }
        return try await store.commit(writer, pinned: true)
    }

    func abort() { writer.cancel() }
}

/// Reads an upload session's `data` file in chunks.
enum UploadReader {
    static let chunkSize = 256 * 1024

    static func forEachChunk(of path: String, _ body: (ByteBuffer) async throws -> Void) async throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw UploadAppender.failure("open", path) }
        defer { close(fd) }
        var buffer = ByteBufferAllocator().buffer(capacity: chunkSize)
        while true {
            buffer.clear()
            let n = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: chunkSize) { raw -> Int in
                while true {
                    let n = read(fd, raw.baseAddress, chunkSize)
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 { throw UploadAppender.failure("read", path) }
                    return n
                }
            }
            if n == 0 { return }
            try await body(buffer)
        }
    }
}
