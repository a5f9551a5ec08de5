import Crypto
import NIOCore
import Synchronization

/// The bytes of one ingest, shared by its writer and its tail readers: a tail reader keeps them
/// (as an open file keeps an unlinked temp file) after a commit or a cancel.
final class MemoryIngest: Sendable {
    private let bytes = Mutex<[UInt8]>([])

    var count: Int64 { bytes.withLock { Int64($0.count) } }

    func append(_ raw: UnsafeRawBufferPointer) {
        bytes.withLock { $0.append(contentsOf: raw) }
    }

    func read(at offset: Int64, count: Int) throws(StoreError) -> ByteBuffer {
        // The slice is copied under the lock; the writer waits at most for that copy.
        try bytes.withLock { bytes throws(StoreError) in try MemoryBytes.slice(bytes, at: offset, count: count) }
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let snapshot = bytes.withLock { $0 }
        return try snapshot.withUnsafeBytes(body)
    }

    /// The bytes as they are now (a copy-on-write share, not a copy).
    var snapshot: [UInt8] { bytes.withLock { $0 } }
}

/// One ingest into a `MemoryBlobStore`: hashes as it appends, and publishes on a commit whose
/// digest and size match what was expected. Like the file writer, it belongs to one task at a
/// time; its state sits behind a lock because tail readers read it from others.
final class MemoryBlobWriter: BlobWriter {
    let expectedDigest: BlobDigest?
    let expectedSize: Int64?
    private let table: MemoryBlobTable
    private let ingest = MemoryIngest()

    private enum Phase {
        case open
        case verified(BlobDigest)
        case closed
    }
    private struct State {
        var phase = Phase.open
        var hasher = SHA256()
        var written: Int64 = 0
    }
    private let state = Mutex(State())

    init(table: MemoryBlobTable, expectedDigest: BlobDigest?, expectedSize: Int64?) {
        self.table = table
        self.expectedDigest = expectedDigest
        self.expectedSize = expectedSize
        table.ingestStarted()
    }

    deinit {
        // A writer dropped without a commit or a cancel ends its ingest, as the file one
        // removes its temp file.
        if state.withLock({ if case .closed = $0.phase { false } else { true } }) { table.ingestEnded() }
    }

    var bytesWritten: Int64 { state.withLock { $0.written } }

    func write(_ buffer: ByteBuffer) async throws(StoreError) {
        var failure: StoreError?
        buffer.withUnsafeReadableBytes { raw in
            do throws(StoreError) { try writeBlocking(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Appends bytes; fails early (and ends the ingest) when more arrive than expected. Memory
    /// work only, so `write` calls it on the caller's thread too.
    func writeBlocking(_ raw: UnsafeRawBufferPointer) throws(StoreError) {
        let tooMany: Int64? = try state.withLock { state throws(StoreError) -> Int64? in
            guard case .open = state.phase else { throw .writerClosed }
            let total = state.written + Int64(raw.count)
            if let expectedSize, total > expectedSize { return total }
            state.hasher.update(bufferPointer: raw)
            // Bytes first, count after, under one lock: a tail reader never sees a count ahead of them.
            ingest.append(raw)
            state.written = total
            return nil
        }
        if let tooMany, let expectedSize {
            cancel()
            throw .sizeMismatch(expected: expectedSize, actual: tooMany)
        }
    }

    @discardableResult
    func verify() throws(StoreError) -> BlobDigest {
        let outcome: Result<BlobDigest, StoreError> = state.withLock { state in
            switch state.phase {
            case .closed: return .failure(.writerClosed)
            case .verified(let digest): return .success(digest)
            case .open: break
            }
            let actual = BlobDigest(state.hasher.finalize())
            if let expectedSize, expectedSize != state.written {
                return .failure(.sizeMismatch(expected: expectedSize, actual: state.written))
            }
            if let expectedDigest, expectedDigest != actual {
                return .failure(.digestMismatch(expected: expectedDigest, actual: actual))
            }
            state.phase = .verified(actual)
            return .success(actual)
        }
        switch outcome {
        case .success(let digest): return digest
        case .failure(let error):
            if error != .writerClosed { cancel() }
            throw error
        }
    }

    func commit() async throws(StoreError) -> (digest: BlobDigest, size: Int64) {
        let digest = try verify()
        let size = state.withLock { state -> Int64 in
            state.phase = .closed
            return state.written
        }
        table.publish(digest, ingest.snapshot)
        table.ingestEnded()
        return (digest, size)
    }

    func cancel() {
        let wasOpen = state.withLock { state -> Bool in
            if case .closed = state.phase { return false }
            state.phase = .closed
            return true
        }
        if wasOpen { table.ingestEnded() }
    }

    func withWrittenBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try ingest.withBytes(body)
    }

    func makeTailReader() throws(StoreError) -> any BlobReader {
        // Its digest is what is expected (a tail reader serves a blob named before it is complete).
        MemoryTailReader(digest: expectedDigest ?? .empty, ingest: ingest)
    }
}
