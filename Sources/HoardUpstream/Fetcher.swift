import HoardStore
import Logging
import NIOCore
import Synchronization

/// What to download and how to know it is right.
public struct FillSource: Sendable {
    public var url: String
    public var expectedDigest: BlobDigest?
    public var expectedSize: Int64?
    /// Opens the download when a plain GET of `url` is not enough (a registry needs tokens, a
    /// package may come from a mirror or its fallback); it returns a 200 response or throws.
    /// `url` then only names the download in logs and errors.
    public var open: (@Sendable () async throws -> UpstreamResponse)?
    /// How the body must start (a package's format); an error page sent with 200 is refused.
    public var signature: BodySignature?

    public init(
        url: String, expectedDigest: BlobDigest? = nil, expectedSize: Int64? = nil, signature: BodySignature? = nil,
        open: (@Sendable () async throws -> UpstreamResponse)? = nil
    ) {
        self.url = url
        self.expectedDigest = expectedDigest
        self.expectedSize = expectedSize
        self.signature = signature
        self.open = open
    }
}

/// Single-flight downloads into the store: concurrent misses for one key make one upstream
/// request, and every reader follows the same growing file.
///
/// Callers look for a running fill (`existing`) before the index, then start one: a fill leaves
/// the registry only after its names are in the index, so no miss can slip between the two.
public final class Fetcher: Sendable {
    public let store: Store
    public let upstream: HTTPUpstream
    private let logger: Logger
    private let fills = Mutex<[String: Fill]>([:])
    /// The task of every running fill, for `finish()`.
    private let tasks = Mutex<[ObjectIdentifier: (fill: Fill, task: Task<Void, Never>)]>([:])
    /// What the windows of all running fills may hold together (`FillWindow`): 32 MiB, so eight
    /// cold downloads at once keep their full window, and more share it.
    let memory = FillMemory(limit: 32 << 20)

    /// Upstream bytes are written to the store in batches of about this many (one thread hop
    /// each, not one per network read), or sooner when `batchInterval` passed since the last.
    static let batchSize = 256 << 10
    static let batchInterval: Duration = .milliseconds(5)

    public init(store: Store, upstream: HTTPUpstream, logger: Logger) {
        self.store = store
        self.upstream = upstream
        self.logger = logger
    }

    /// The fill running for `key`, if any.
    public func existing(_ key: String) -> Fill? {
        fills.withLock { $0[key] }
    }

    /// Joins the fill for `key`, or starts one. A new fill first asks `lookup` (the blob may
    /// have been stored since the caller looked), else downloads `source()` and, once the blob is
    /// committed, names it with `onCommit` (blob first, then names).
    public func fill(
        key: String,
        lookup: @escaping @Sendable () async throws -> BlobRecord?,
        source: @escaping @Sendable () async throws -> FillSource,
        onCommit: @escaping @Sendable (BlobRecord) async throws -> Void
    ) -> Fill {
        let (fill, isNew) = fills.withLock { fills -> (Fill, Bool) in
            if let running = fills[key] { return (running, false) }
            let fill = Fill(key: key, memory: memory)
            fills[key] = fill
            return (fill, true)
        }
        guard isNew else {
            RequestNotes.current?.note(.coalesced)
            upstream.observer?.coalescedWait()
            return fill
        }
        // The request that starts a download is its miss, and its access log gets the upstream time.
        let notes = RequestNotes.current
        notes?.note(.miss)
        let id = ObjectIdentifier(fill)
        tasks.withLock { tasks in
            // Deliberately unstructured: the download must outlive the request that started it.
            // (Created under the lock: the task removes itself only after it was recorded.)
            let task = Task.detached { [self] in
                await RequestNotes.$current.withValue(notes) { await self.run(fill, lookup: lookup, source: source, onCommit: onCommit) }
                _ = self.fills.withLock { $0.removeValue(forKey: key) }
                _ = self.tasks.withLock { $0.removeValue(forKey: id) }
            }
            tasks[id] = (fill, task)
        }
        return fill
    }

    /// For a graceful stop, once no request is left: fills whose bytes are verified are let
    /// commit and name their blob (a client may already hold every byte and count on the store
    /// having it), the others are stopped (nobody reads them; nothing partial is kept).
    public func finish() async {
        let running = tasks.withLock { Array($0.values) }
        for (fill, task) in running where !fill.isVerified { task.cancel() }
        for (_, task) in running { await task.value }
    }

    private func run(
        _ fill: Fill, lookup: @Sendable () async throws -> BlobRecord?,
        source makeSource: @Sendable () async throws -> FillSource, onCommit: @Sendable (BlobRecord) async throws -> Void
    ) async {
        var writer: (any BlobWriter)?
        var writes = WriteAhead()
        var url = fill.key
        do {
            if let record = try await lookup() {
                fill.started(Fill.Head(size: record.size, reader: try await store.open(record.digest), expectedDigest: record.digest))
                fill.committed(record)
                return
            }
            let source = try await makeSource()
            url = source.url
            let response: UpstreamResponse
            if let open = source.open {
                response = try await open()
            } else {
                response = try await upstream.send(UpstreamRequest(url: source.url))
            }
            url = response.url
            guard response.status == 200 else {
                throw UpstreamError.status(url: response.url, code: response.status)
            }
            var check = source.signature.map { SignatureCheck($0, url: url) }
            if let check { try SignatureCheck.checkContentType(response.contentType, expected: check.signature, url: url) }
            let size = response.contentLength ?? source.expectedSize
            if let expected = source.expectedSize, let announced = response.contentLength, expected != announced {
                throw UpstreamError.integrity(url: url, detail: "Content-Length \(announced) differs from the expected size \(expected)")
            }
            // Clients follow the fill as it grows; nobody waits for its commit.
            let newWriter = try await store.makeWriter(expectedDigest: source.expectedDigest, expectedSize: size, readersFirst: true)
            writer = newWriter
            fill.started(Fill.Head(size: size, reader: try newWriter.makeTailReader(), expectedDigest: source.expectedDigest))
            do {
                var batch = ByteBuffer()
                var buffers = BatchBuffers(capacity: Self.batchSize)
                var lastWrite: ContinuousClock.Instant?
                for try await chunk in response.body {
                    try Task.checkCancellation()  // a stopping server (`finish()`)
                    try check?.feed(chunk)
                    // Batches are never grown (a grown buffer doubles its allocation): a chunk
                    // that does not fit sends the batch and starts the next.
                    if batch.writableBytes < chunk.readableBytes {
                        if batch.readableBytes > 0 {
                            try await writes.submit(batch, to: newWriter, fill: fill)
                            buffers.handedOn(batch)
                            lastWrite = .now
                        }
                        batch = buffers.take(minimum: chunk.readableBytes)
                    }
                    batch.writeImmutableBuffer(chunk)
                    // The first bytes at once (time to first byte), then in batches, or sooner
                    // when bytes come slowly.
                    let due = lastWrite.map { .now - $0 >= Self.batchInterval } ?? true
                    guard due || batch.writableBytes == 0 else { continue }
                    try await writes.submit(batch, to: newWriter, fill: fill)
                    // A new buffer each time: the write and readers may still hold the one just
                    // sent (`buffers` hands it out again once they all let go).
                    buffers.handedOn(batch)
                    batch = ByteBuffer()
                    lastWrite = .now
                }
                if batch.readableBytes > 0 {
                    try await writes.submit(batch, to: newWriter, fill: fill)
                }
                try await writes.drain()
                try check?.finish()
            } catch let error as StoreError {
                throw error
            } catch {
                throw HTTPUpstream.classify(error, url: url, timeout: upstream.timeout)
            }
            // Readers may finish as soon as the bytes are known good; durability follows.
            try newWriter.verify()
            fill.verified(size: newWriter.bytesWritten)
            let record = try await store.commit(newWriter)
            try await onCommit(record)
            fill.committed(record)
            logger.debug("filled from upstream", metadata: ["url": "\(url)", "digest": "\(record.digest)", "size": "\(record.size)"])
        } catch {
            await writes.abandon()
            writer?.cancel()
            let reported = Self.describe(error, url: url)
            if case .status(_, let code) = reported as? UpstreamError, code == 404 {
                logger.debug("upstream does not have it", metadata: ["url": "\(url)"])
            } else {
                logger.error("pull-through failed; nothing was stored", metadata: ["url": "\(url)", "error": "\(reported)"])
            }
            fill.failed(reported)
        }
    }

    /// Store errors about content are upstream's fault: say so.
    public static func describe(_ error: any Error, url: String) -> any Error {
        switch error as? StoreError {
        case .digestMismatch(let expected, let actual):
            return UpstreamError.integrity(url: url, detail: "sha256 \(actual.hex) where the channel says \(expected.hex)")
        case .sizeMismatch(let expected, let actual):
            return actual < expected
                ? UpstreamError.truncated(url: url, expected: expected, received: actual)
                : UpstreamError.integrity(url: url, detail: "\(actual) bytes where \(expected) were expected")
        default:
            return error
        }
    }
}
