import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A bounded copy, on this node's disk, of blobs kept elsewhere (the S3 backend's bucket): the
/// blobs a node serves again and again are read from its own disk, and sent with sendfile,
/// instead of being fetched from the bucket for every request. Least recently used copies go
/// first once the cache holds more than its limit.
///
/// Blobs never change, so a copy is never stale. Whether a blob still *exists* is not the
/// cache's to say: the backend asks the bucket (`BlobStore.size(of:)`, which `Store` asks before
/// anything is served or named), so a copy of a blob another node deleted never revives it.
///
/// Best effort throughout: a copy that cannot be made or opened (disk full, removed by hand)
/// is simply not there, and the caller reads from the bucket.
public final class LocalBlobCache: Sendable {
    /// The directory: one file per blob, named by its hex digest, and `.fill` files being written.
    public let path: String
    /// Bytes the copies may take.
    public let limit: Int64
    /// Copies are not made when fewer bytes than this would stay free on the disk after them:
    /// the spool and the index need the room more.
    static let reserve: Int64 = 1 << 30

    private let io = BlobIO()
    private let state = Mutex(State())

    public init(path: String, limit: Int64) {
        self.path = path
        self.limit = limit
    }

    private struct Entry {
        var size: Int64
        var lastUse: UInt64
    }

    private struct State {
        var entries: [BlobDigest: Entry] = [:]
        var total: Int64 = 0
        var clock: UInt64 = 0
        var filling: Set<BlobDigest> = []

        mutating func tick() -> UInt64 {
            clock += 1
            return clock
        }

        /// Adds a copy, then picks the least recently used ones to remove until the total fits.
        mutating func add(_ digest: BlobDigest, size: Int64, limit: Int64) -> [BlobDigest] {
            if let old = entries[digest] { total -= old.size }
            entries[digest] = Entry(size: size, lastUse: tick())
            total += size
            guard total > limit else { return [] }
            var victims: [BlobDigest] = []
            for (candidate, entry) in entries.sorted(by: { $0.value.lastUse < $1.value.lastUse }) {
                guard total > limit else { break }
                victims.append(candidate)
                total -= entry.size
                entries[candidate] = nil
            }
            return victims
        }

        mutating func drop(_ digest: BlobDigest) {
            guard let entry = entries.removeValue(forKey: digest) else { return }
            total -= entry.size
        }
    }

    /// What the copies take now, and how many there are.
    public var usage: (count: Int, bytes: Int64) {
        state.withLock { ($0.entries.count, $0.total) }
    }

    /// Creates the directory and takes stock of the copies a previous run left (oldest file
    /// first in the order of use); unfinished `.fill` files and anything else go.
    public func prepare() async throws(StoreError) {
        let (path, limit) = (path, limit)
        let found = try await io.run(path) { () throws(StoreError) -> [(BlobDigest, Int64, Int)] in
            try POSIX.makeDirectories(path)
            var found: [(BlobDigest, Int64, Int)] = []
            for name in try POSIX.listDirectory(path) {
                var st = stat()
                guard let digest = BlobDigest(hex: name), fstatat(AT_FDCWD, path + "/" + name, &st, 0) == 0,
                    (st.st_mode & S_IFMT) == S_IFREG
                else {
                    try POSIX.removeTree(path + "/" + name)
                    continue
                }
                found.append((digest, Int64(st.st_size), st.st_mtim.tv_sec))
            }
            return found.sorted { $0.2 < $1.2 }
        }
        var victims: [BlobDigest] = []
        state.withLock { state in
            for (digest, size, _) in found { victims += state.add(digest, size: size, limit: limit) }
        }
        await unlink(victims)
    }

    /// A reader of the copy of `digest`, or nil when there is none.
    public func open(_ digest: BlobDigest) async -> (any BlobReader)? {
        let known = state.withLock { state in
            guard state.entries[digest] != nil else { return false }
            let now = state.tick()
            state.entries[digest]?.lastUse = now
            return true
        }
        guard known else { return nil }
        let (file, io) = (file(digest), io)
        let reader = try? await io.run(file) { () throws(StoreError) in try FileBlobReader.open(path: file, digest: digest, io: io) }
        guard let reader else {
            // Removed underneath (by hand): forget it.
            state.withLock { $0.drop(digest) }
            return nil
        }
        return reader
    }

    /// Keeps a scratch file whose bytes are the verified blob `digest` (a committed ingest's
    /// spool) as its copy, by renaming it into the cache; the file's handle and readers go on
    /// reading it. Returns false when it was not kept (the caller removes its name then).
    public func adopt(_ file: ScratchFile, as digest: BlobDigest, size: Int64) async -> Bool {
        guard size <= limit / 4 else { return false }
        let target = self.file(digest)
        let renamed = (try? await io.run(target) { () throws(StoreError) -> Bool in
            guard Self.roomLeft(on: target, after: size) else { return false }
            try POSIX.rename(file.path, target)
            return true
        }) ?? false
        if renamed { await added(digest, size: size) }
        return renamed
    }

    /// Makes a copy of `digest` from `bytes` (the blob, front to back), unless there is one, one
    /// is being made, or it would not fit. The copy counts only when exactly `size` bytes came.
    public func fill<Bytes: AsyncSequence>(_ digest: BlobDigest, size: Int64, from bytes: () async throws -> Bytes?) async
    where Bytes.Element == ByteBuffer {
        guard size <= limit / 4 else { return }
        let started = state.withLock { state in
            guard state.entries[digest] == nil, !state.filling.contains(digest) else { return false }
            state.filling.insert(digest)
            return true
        }
        guard started else { return }
        defer { _ = state.withLock { $0.filling.remove(digest) } }
        let directory = ScratchDirectory(path: path)
        let made = try? await io.run(path) { () throws(StoreError) -> ScratchFile? in
            guard Self.roomLeft(on: directory.path, after: size) else { return nil }
            return try directory.makeFile(suffix: "fill")
        }
        guard let scratch = made ?? nil else { return }
        do {
            guard let body = try await bytes() else {
                await discard(scratch)
                return
            }
            var written: Int64 = 0
            for try await buffer in body {
                written += Int64(buffer.readableBytes)
                guard written <= size else { break }
                try await io.run(scratch.path) { () throws(StoreError) in
                    try buffer.withUnsafeReadableBytes { raw throws(StoreError) in try scratch.append(raw) }
                }
            }
            guard written == size else {
                await discard(scratch)
                return
            }
        } catch {
            await discard(scratch)
            return
        }
        if !(await adopt(scratch, as: digest, size: size)) { await discard(scratch) }
    }

    /// Removes the copy of `digest`, if any (the blob was deleted).
    public func remove(_ digest: BlobDigest) async {
        state.withLock { $0.drop(digest) }
        await unlink([digest])
    }

    // MARK: Private

    private func file(_ digest: BlobDigest) -> String {
        path + "/" + digest.hex
    }

    /// Whether the disk keeps `reserve` free after a copy of `size` bytes. (A copy also takes at
    /// most a quarter of the limit: one huge blob must not flush every other copy.) BLOCKING.
    private static func roomLeft(on path: String, after size: Int64) -> Bool {
        guard let available = POSIX.availableBytes(path) else { return true }
        return available - size >= reserve
    }

    private func discard(_ scratch: ScratchFile) async {
        _ = try? await io.run(scratch.path) { () throws(StoreError) in scratch.removeName() }
    }

    private func added(_ digest: BlobDigest, size: Int64) async {
        let limit = limit
        let victims = state.withLock { $0.add(digest, size: size, limit: limit) }
        await unlink(victims)
    }

    /// Removes copies' files; a reader that has one open keeps reading it.
    private func unlink(_ digests: [BlobDigest]) async {
        guard !digests.isEmpty else { return }
        let files = digests.map(file)
        _ = try? await io.run(path) { () throws(StoreError) in
            for file in files { try? POSIX.unlinkIfPresent(file) }
        }
    }
}
