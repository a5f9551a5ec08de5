import AsyncHTTPClient
import HoardStore
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Positional reads of one committed blob in the bucket. The server reads a blob front to back
/// in chunks, so sequential reads are served from a streaming GET kept open between reads (the
/// HTTP client reads ahead of us into its buffer, up to its backpressure mark); a read at an
/// offset no open stream is at starts a new stream there (at most `maximumStreams` per reader,
/// the least recently used one dropped first) or, when all are busy, is a ranged GET of its own.
///
/// A stream opened before the blob was deleted keeps streaming (S3 serves an object it started
/// sending); a read that needs a new GET after the delete fails with `.blobNotFound`. There is
/// no local file: `fileHandle()` is nil.
final class S3BlobReader: BlobReader {
    static let maximumStreams = 4

    let digest: BlobDigest
    let size: Int64
    private let key: String
    private let context: S3BlobContext
    private let streams = Mutex(StreamTable())

    init(digest: BlobDigest, size: Int64, context: S3BlobContext) {
        self.digest = digest
        self.size = size
        self.key = S3BlobKeys.blob(digest)
        self.context = context
    }

    func read(at offset: Int64, count: Int) async throws(StoreError) -> ByteBuffer {
        guard count > 0 else { return ByteBuffer() }
        guard offset >= 0 else { throw .rangeNotSatisfiable(size: size) }
        guard offset < size else { return ByteBuffer() }
        let wanted = Int(min(Int64(count), size - offset))

        // A stream dropped to make room is closed when `dropped` goes, outside the lock.
        let (claim, dropped) = streams.withLock { $0.claim(at: offset) }
        _ = dropped
        switch claim {
        case .ranged:
            return try await rangedRead(at: offset, count: wanted)
        case .stream(let stream):
            return try await read(from: stream, at: offset, count: wanted)
        case .start:
            let stream: BlobStream
            do {
                stream = try await open(at: offset)
            } catch {
                streams.withLock { $0.release(nil) }
                throw error
            }
            return try await read(from: stream, at: offset, count: wanted)
        }
    }

    /// Reads from a stream this call checked out, and checks it back in; a stream that fails
    /// (its connection dropped, cut short) is dropped and the read made by a ranged GET.
    private func read(from stream: BlobStream, at offset: Int64, count: Int) async throws(StoreError) -> ByteBuffer {
        if let buffer = try? await stream.take(count), buffer.readableBytes == count {
            let keep = stream.position < size
            streams.withLock { $0.release(keep ? stream : nil) }
            return buffer
        }
        streams.withLock { $0.release(nil) }
        return try await rangedRead(at: offset, count: count)
    }

    /// A streaming GET from `offset` to the end.
    private func open(at offset: Int64) async throws(StoreError) -> BlobStream {
        let range: ClosedRange<Int64>? = offset == 0 ? nil : offset...(size - 1)
        let download: S3Download?
        do { download = try await context.client.get(key, range: range) } catch { throw error.storeError }
        guard let download else { throw .blobNotFound(digest) }
        return BlobStream(body: download.body, position: offset)
    }

    /// Exactly `count` bytes at `offset` (inside the blob) by one ranged GET.
    private func rangedRead(at offset: Int64, count: Int) async throws(StoreError) -> ByteBuffer {
        let download: S3Download?
        do { download = try await context.client.get(key, range: offset...(offset + Int64(count) - 1)) } catch { throw error.storeError }
        guard let download else { throw .blobNotFound(digest) }
        let stream = BlobStream(body: download.body, position: offset)
        let buffer: ByteBuffer
        do { buffer = try await stream.take(count) } catch { throw Self.transport(error, key: key) }
        guard buffer.readableBytes == count else {
            throw .unavailable(backend: "S3", reason: "GET \(key) ended after \(buffer.readableBytes) of \(count) bytes")
        }
        return buffer
    }

    /// Downloads the whole blob to a temporary file in the spool directory (its name removed at
    /// once) and maps it. BLOCKING, as the protocol says: it waits for the download.
    func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let (key, context, digest) = (key, context, digest)
        let copy = try BlockingBridge.wait(on: context.io.executor) { () async throws -> any BlobReader in
            try await Self.download(key, digest: digest, context: context)
        }
        return try copy.withContiguousBytes(body)
    }

    private static func download(_ key: String, digest: BlobDigest, context: S3BlobContext) async throws(StoreError) -> any BlobReader {
        let spool = context.spool
        let file = try await context.io.run(spool.path) { () throws(StoreError) -> ScratchFile in
            let file = try spool.makeFile(suffix: "get")
            file.removeName()
            return file
        }
        let download: S3Download?
        do { download = try await context.client.get(key) } catch { throw error.storeError }
        guard let download else { throw .blobNotFound(digest) }
        do {
            for try await buffer in download.body {
                try await context.io.run(file.path) { () throws(StoreError) in
                    try buffer.withUnsafeReadableBytes { bytes throws(StoreError) in try file.append(bytes) }
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw transport(error, key: key)
        }
        return try file.makeReader(digest: digest, pool: context.io.pool)
    }

    func fileHandle() throws(StoreError) -> NIOFileHandle? { nil }

    static func transport(_ error: any Error, key: String) -> StoreError {
        .unavailable(backend: "S3", reason: "reading \(key): \(error)")
    }
}

/// The open streams of one reader: idle ones by their position, least recently used first.
struct StreamTable {
    enum Claim {
        case stream(BlobStream)
        case start
        case ranged
    }

    private var idle: [BlobStream] = []
    private var busy = 0

    /// The stream to read `offset` from; a stream dropped to make room comes back to be closed
    /// outside the lock.
    mutating func claim(at offset: Int64) -> (Claim, BlobStream?) {
        if let index = idle.firstIndex(where: { $0.position == offset }) {
            busy += 1
            return (.stream(idle.remove(at: index)), nil)
        }
        if idle.count + busy < S3BlobReader.maximumStreams {
            busy += 1
            return (.start, nil)
        }
        if !idle.isEmpty {
            busy += 1
            return (.start, idle.removeFirst())
        }
        return (.ranged, nil)
    }

    /// Ends a claim; the stream, when given, is kept for the next read at its position.
    mutating func release(_ stream: BlobStream?) {
        busy -= 1
        if let stream { idle.append(stream) }
    }
}

/// One GET's body being consumed: its position in the blob and what arrived beyond the last read.
/// Checked out by one read at a time (`StreamTable`), hence `@unchecked Sendable`.
final class BlobStream: @unchecked Sendable {
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private var pending = ByteBuffer()
    private(set) var position: Int64

    init(body: HTTPClientResponse.Body, position: Int64) {
        self.iterator = body.makeAsyncIterator()
        self.position = position
    }

    /// Up to `count` bytes, fewer only where the body ends.
    func take(_ count: Int) async throws -> ByteBuffer {
        while pending.readableBytes < count {
            guard var next = try await iterator.next() else { break }
            if pending.readableBytes == 0 {
                pending = next
            } else {
                // Drop what earlier reads took first: appending behind kept read bytes grew this
                // buffer by every byte the stream delivered (a 100 MiB blob served: +100 MiB RSS).
                pending.discardReadBytes()
                pending.writeBuffer(&next)
            }
        }
        let taken = pending.readSlice(length: min(count, pending.readableBytes)) ?? ByteBuffer()
        if pending.readableBytes == 0 { pending = ByteBuffer() }
        position += Int64(taken.readableBytes)
        return taken
    }
}
