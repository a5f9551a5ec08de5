import HoardStore
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// The threads the S3 backend blocks on: the local spool files every ingest writes (the tee's
/// tail readers read them), the hashing of what is written, and the temporary copies that
/// `withContiguousBytes` maps. Never Swift's cooperative pool, which answers requests on as few
/// threads as there are cores. Four threads at least: a few ingests and tail readers at once,
/// each step a page-cache write or read of at most one part. Stopped when the last user goes.
final class SpoolIO: Sendable {
    let pool: NIOThreadPool
    /// Runs the async work a blocking caller waits for (`BlockingBridge`) on the pool's threads,
    /// so that it never needs a thread of the cooperative pool the caller may be blocking.
    let executor: PoolTaskExecutor

    init() {
        pool = NIOThreadPool(numberOfThreads: max(4, System.coreCount))
        pool.start()
        executor = PoolTaskExecutor(pool: pool)
    }

    deinit {
        pool.shutdownGracefully(queue: .global()) { _ in }
    }

    /// Runs blocking file work (or hashing) on the pool.
    func run<T: Sendable>(_ path: String, _ body: @escaping @Sendable () throws(StoreError) -> T) async throws(StoreError) -> T {
        do {
            return try await pool.runIfActive { () throws -> T in try body() }
        } catch let error as StoreError {
            throw error
        } catch {
            // Only a pool that was shut down fails otherwise (the store is closing).
            throw .io(operation: "spool I/O (store closing)", path: path, errno: ECANCELED)
        }
    }
}

/// A task executor over a thread pool: each job runs on one of its threads.
final class PoolTaskExecutor: TaskExecutor {
    private let pool: NIOThreadPool

    init(pool: NIOThreadPool) {
        self.pool = pool
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        pool.submit { _ in job.runSynchronously(on: executor) }
    }
}

/// Thin, throwing wrappers over the system calls the spool needs (they retry on EINTR).
enum SpoolFile {
    static func error(_ operation: String, _ path: String, _ code: Int32 = errno) -> StoreError {
        code == ENOSPC || code == EDQUOT ? .diskFull(path: path) : .io(operation: operation, path: path, errno: code)
    }

    /// Creates a new file for reading and writing; it must not exist yet.
    static func create(_ path: String) throws(StoreError) -> Int32 {
        while true {
            let fd = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 { return fd }
            if errno != EINTR { throw error("open", path) }
        }
    }

    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws(StoreError) {
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let n = Glibc.write(fd, base + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw error("write", path)
            }
            offset += n
        }
    }

    /// Fills `count` bytes at `offset` (fewer only at the end of the file), in a new buffer no
    /// larger than what the file holds there: a caller's large count is never a large allocation.
    static func read(_ fd: Int32, at offset: Int64, count requested: Int, path: String) throws(StoreError) -> ByteBuffer {
        guard offset >= 0 else { throw .io(operation: "pread", path: path, errno: EINVAL) }
        let remaining = max(0, try size(fd, path: path) - offset)
        let count = Int(min(Int64(requested), remaining))
        guard count > 0 else { return ByteBuffer() }
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        var failure: StoreError?
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
            var filled = 0
            while filled < count {
                let n = Glibc.pread(fd, raw.baseAddress! + filled, count - filled, off_t(offset + Int64(filled)))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = error("pread", path)
                    break
                }
                if n == 0 { break }
                filled += n
            }
            return filled
        }
        if let failure { throw failure }
        return buffer
    }

    static func size(_ fd: Int32, path: String) throws(StoreError) -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw error("fstat", path) }
        return Int64(st.st_size)
    }

    /// Maps the file as it is now and lends its bytes (the kernel pages them in as touched).
    static func withMapped<R>(_ fd: Int32, path: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let length = Int(try size(fd, path: path))
        guard length > 0 else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard let base = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw error("mmap", path)
        }
        defer { munmap(base, length) }
        return try body(UnsafeRawBufferPointer(start: base, count: length))
    }

    static func duplicate(_ fd: Int32, path: String) throws(StoreError) -> Int32 {
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { throw error("dup", path) }
        return copy
    }

    static func unlinkIfPresent(_ path: String) {
        _ = Glibc.unlink(path)
    }

    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws(StoreError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw error("mkdir", current) }
        }
    }

    /// Names in a directory, without `.` and `..`; a missing directory is empty.
    static func list(_ path: String) throws(StoreError) -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw error("opendir", path)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Bytes an unprivileged writer may still use on the file system holding `path`, or nil
    /// when the system cannot say.
    static func availableBytes(_ path: String) -> Int64? {
        var st = statvfs()
        guard statvfs(path, &st) == 0 else { return nil }
        let (bytes, overflow) = Int64(clamping: st.f_bavail).multipliedReportingOverflow(by: Int64(clamping: st.f_frsize))
        return overflow ? Int64.max : bytes
    }

    /// A random file name (64 bits twice, hex).
    static func randomName() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next() as UInt64, radix: 16) + String(generator.next() as UInt64, radix: 16)
    }
}

/// Reads a local spool file through its own descriptor (a duplicate: the file stays readable
/// after its name is removed, as long as this reader lives): the tail of an ingest, or the
/// temporary copy of a blob.
final class SpoolReader: BlobReader {
    let digest: BlobDigest
    private let fd: Int32
    private let path: String
    private let io: SpoolIO

    /// Takes ownership of `fd`.
    init(fd: Int32, path: String, digest: BlobDigest, io: SpoolIO) {
        self.fd = fd
        self.path = path
        self.digest = digest
        self.io = io
    }

    deinit { close(fd) }

    /// What the file holds now (a tail reader's file grows).
    var size: Int64 { (try? SpoolFile.size(fd, path: path)) ?? 0 }

    func read(at offset: Int64, count: Int) async throws(StoreError) -> ByteBuffer {
        guard count > 0 else { return ByteBuffer() }
        let (fd, path) = (fd, path)
        return try await io.run(path) { () throws(StoreError) in
            try withExtendedLifetime(self) { () throws(StoreError) in try SpoolFile.read(fd, at: offset, count: count, path: path) }
        }
    }

    func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try SpoolFile.withMapped(fd, path: path, body)
    }

    /// The spool is not where the blob lives: no file to send.
    func fileHandle() throws(StoreError) -> NIOFileHandle? { nil }
}
