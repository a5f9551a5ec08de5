import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Upload sessions as directories `tmp/uploads/<uuid>/` holding `state.json` (the caller's
/// metadata, verbatim) and `data` (the bytes received), so they survive a restart. The last
/// change of a session is the modification time of its `data`.
///
/// Every file operation runs on the file backend's read/write pool (`BlobIO.reads`), never on
/// the cooperative pool; the copy of a session into a blob is one job there.
public struct FileBlobUploads: BlobUploads {
    public let layout: StoreLayout
    let io: BlobIO

    init(layout: StoreLayout, io: BlobIO) {
        self.layout = layout
        self.io = io
    }

    public func create(metadata: [UInt8]) async throws(StoreError) -> UploadID {
        let id = UploadID.random()
        let directory = directory(id)
        try await io.run(directory) { () throws(StoreError) in
            do throws(StoreError) {
                if mkdir(directory, 0o755) != 0 { throw StoreError.posix("mkdir", directory) }
                let data = try POSIX.open(directory + "/data", O_WRONLY | O_CREAT | O_EXCL, 0o644)
                close(data)
                // state.json last: a session without it (a crash in between) is unknown, and expires.
                let state = try POSIX.open(directory + "/state.json", O_WRONLY | O_CREAT | O_EXCL, 0o644)
                defer { close(state) }
                try SessionFile.write(metadata, to: state, path: directory + "/state.json")
            } catch {
                try? POSIX.removeTree(directory)
                throw error
            }
        }
        return id
    }

    public func info(_ id: UploadID) async throws(StoreError) -> UploadInfo? {
        let directory = directory(id)
        return try await io.run(directory) { () throws(StoreError) -> UploadInfo? in
            guard let status = try SessionFile.status(directory + "/data") else { return nil }
            guard let fd = try POSIX.openIfPresent(directory + "/state.json", O_RDONLY) else { return nil }
            defer { close(fd) }
            let metadata = try SessionFile.readAll(fd, path: directory + "/state.json")
            return UploadInfo(id: id, metadata: metadata, size: status.size, lastModified: status.modified)
        }
    }

    public func appender(_ id: UploadID) async throws(StoreError) -> any UploadAppender {
        let path = directory(id) + "/data"
        let (fd, size) = try await io.run(path) { () throws(StoreError) -> (Int32, Int64) in
            guard let fd = try POSIX.openIfPresent(path, O_WRONLY | O_APPEND) else { throw StoreError.uploadNotFound(id.value) }
            var st = stat()
            guard fstat(fd, &st) == 0 else {
                let failure = StoreError.posix("fstat", path)
                close(fd)
                throw failure
            }
            return (fd, Int64(st.st_size))
        }
        return FileUploadAppender(fd: fd, path: path, size: size, io: io)
    }

    public func makeWriter<H: UploadHasher>(
        from id: UploadID, expectedDigest: BlobDigest?, expectedSize: Int64?, hashing hasher: inout H
    ) async throws(StoreError) -> any BlobWriter {
        let path = directory(id) + "/data"
        let (layout, io) = (layout, io)
        let start = hasher
        let (writer, hashed) = try await io.run(path) { () throws(StoreError) -> (FileBlobWriter, H) in
            guard let fd = try POSIX.openIfPresent(path, O_RDONLY) else { throw StoreError.uploadNotFound(id.value) }
            defer { close(fd) }
            let writer = try FileBlobWriter(layout: layout, io: io, expectedDigest: expectedDigest, expectedSize: expectedSize)
            var hasher = start
            do throws(StoreError) {
                // One job on the pool: read, hash and write each chunk without a hop.
                try SessionFile.forEachChunk(fd, path: path) { chunk throws(StoreError) in
                    try writer.writeBlocking(chunk)
                    hasher.update(bufferPointer: chunk)
                }
            } catch {
                writer.cancel()
                throw error
            }
            return (writer, hasher)
        }
        hasher = hashed
        return writer
    }

    public func remove(_ id: UploadID) async throws(StoreError) {
        let directory = directory(id)
        try await io.run(directory) { () throws(StoreError) in try POSIX.removeTree(directory) }
    }

    public func list() async throws(StoreError) -> [UploadEntry] {
        let root = layout.uploadsDirectory
        return try await io.run(root) { () throws(StoreError) -> [UploadEntry] in
            var entries: [UploadEntry] = []
            for name in try POSIX.listDirectory(root) {
                // Only session directories; anything else here is not the store's to list.
                guard let id = UploadID(name) else { continue }
                let directory = root + "/" + name
                // A session missing its data (a crash while it was made) counts as empty and as
                // old as its directory, so that expiry removes it.
                var status = try SessionFile.status(directory + "/data")
                if status == nil { status = try SessionFile.status(directory, directory: true) }
                guard let status else { continue }
                entries.append(UploadEntry(id: id, size: status.size, lastModified: status.modified))
            }
            return entries
        }
    }

    /// Removes what is in the sessions' directory but is no session (not named by a session id);
    /// blocking, for recovery when the store is opened. Returns how many there were.
    static func removeStrays(in directory: String) throws(StoreError) -> Int {
        let strays = try POSIX.listDirectory(directory).filter { UploadID($0) == nil }
        for name in strays { try POSIX.removeTree(directory + "/" + name) }
        return strays.count
    }

    private func directory(_ id: UploadID) -> String {
        layout.uploadsDirectory + "/" + id.value
    }
}

/// Appends to one session's `data`, each write on the file backend's read/write pool.
final class FileUploadAppender: UploadAppender, @unchecked Sendable {
    // One request owns an appender: `size` is never touched by two tasks at once.
    private(set) var size: Int64
    private let fd: Int32
    private let path: String
    private let io: BlobIO

    init(fd: Int32, path: String, size: Int64, io: BlobIO) {
        self.fd = fd
        self.path = path
        self.size = size
        self.io = io
    }

    deinit { close(fd) }

    func append(_ buffer: ByteBuffer) async throws(StoreError) {
        let fd = fd
        let path = path
        guard buffer.readableBytes > 0 else { return }
        try await io.run(path) { () throws(StoreError) in
            var failure: StoreError?
            buffer.withUnsafeReadableBytes { raw in
                do throws(StoreError) { try POSIX.writeAll(fd, raw, path: path) } catch { failure = error }
            }
            if let failure { throw failure }
        }
        size += Int64(buffer.readableBytes)
    }
}

/// File helpers of the session files (blocking; called on the pool).
enum SessionFile {
    static let chunkSize = 1 << 20

    /// Size and modification time of a file (or directory), nil when absent.
    static func status(_ path: String, directory: Bool = false) throws(StoreError) -> (size: Int64, modified: Date)? {
        var st = stat()
        if stat(path, &st) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw StoreError.posix("stat", path)
        }
        let modified = Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
        return (directory ? 0 : Int64(st.st_size), modified)
    }

    /// A small file (a session's metadata) whole.
    static func readAll(_ fd: Int32, path: String) throws(StoreError) -> [UInt8] {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
        defer { chunk.deallocate() }
        var bytes: [UInt8] = []
        while true {
            let n = try POSIX.pread(fd, into: chunk, offset: Int64(bytes.count), path: path)
            if n == 0 { return bytes }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
        }
    }

    static func write(_ bytes: [UInt8], to fd: Int32, path: String) throws(StoreError) {
        var failure: StoreError?
        bytes.withUnsafeBytes { raw in
            do throws(StoreError) { try POSIX.writeAll(fd, raw, path: path) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Calls `body` with the file's bytes in order, a chunk at a time.
    static func forEachChunk(_ fd: Int32, path: String, _ body: (UnsafeRawBufferPointer) throws(StoreError) -> Void) throws(StoreError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while true {
            let n = try POSIX.pread(fd, into: buffer, offset: offset, path: path)
            if n == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            offset += Int64(n)
        }
    }
}
