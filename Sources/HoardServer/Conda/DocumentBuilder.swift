import HoardConda
import HoardStore
import HoardUpstream
import NIOCore
import NIOPosix

/// Turns upstream bodies into stored blobs: ingest as they stream, decompress a `.zst`, rewrite
/// absolute URLs in `info`, compress the served JSON. The CPU-heavy steps run on a thread pool
/// of their own so that a 300 MB document never holds up the threads answering requests.
struct DocumentBuilder: Sendable {
    let store: Store
    let worker: NIOThreadPool
    let timeout: Duration
    /// The largest document accepted, after decompression (`--max-document-size`).
    var maxDocumentSize: Int64 = ServerSettings.defaultMaxDocumentSize

    /// The most bytes a document of `kind` may have once decompressed.
    func limit(for kind: DocumentKind) -> Int64 { min(kind.sizeLimit, maxDocumentSize) }

    /// Streams a response body into a new blob, refusing more than `limit` bytes and a body that
    /// does not start like `signature` (an error page sent with 200): nothing of either is kept.
    /// With `inflateLimit`, the body is zstd and is decompressed as it arrives into a second blob
    /// of at most that many bytes; both are committed only once the whole body decompressed and
    /// `validate` accepted the (decompressed) document.
    func ingest(
        _ response: UpstreamResponse, limit: Int64, signature: BodySignature? = nil, expectedDigest: BlobDigest? = nil,
        inflateLimit: Int64? = nil, validate: (@Sendable (UnsafeRawBufferPointer) throws -> Void)? = nil
    ) async throws -> (raw: BlobRecord, inflated: BlobRecord?) {
        var check = signature.map { SignatureCheck($0, url: response.url) }
        if let check { try SignatureCheck.checkContentType(response.contentType, expected: check.signature, url: response.url) }
        if let announced = response.contentLength, announced > limit {
            throw UpstreamError.documentTooLarge(url: response.url, limit: limit)
        }
        let writer = try await store.makeWriter(expectedDigest: expectedDigest, expectedSize: response.contentLength)
        var inflater: StreamingInflater?
        do {
            if let inflateLimit { inflater = try await StreamingInflater(store: store, limit: inflateLimit, url: response.url) }
        } catch {
            writer.cancel()
            throw error
        }
        do {
            for try await chunk in response.body {
                if writer.bytesWritten + Int64(chunk.readableBytes) > limit {
                    throw UpstreamError.documentTooLarge(url: response.url, limit: limit)
                }
                try check?.feed(chunk)
                try await writer.write(chunk)
                try await inflater?.feed(chunk, on: worker)
            }
            try check?.finish()
            try inflater?.finish()
            // Checked before anything is committed: a body whose length or digest is wrong
            // leaves neither blob behind.
            _ = try writer.verify()
            if let validate {
                // The finished bytes, mapped on the document pool before anything is committed.
                let written = inflater?.writer ?? writer
                try await worker.runIfActive { try written.withWrittenBytes(validate) }
            }
        } catch let error as StoreError {
            writer.cancel()
            inflater?.cancel()
            throw Fetcher.describe(error, url: response.url)
        } catch let error as UpstreamError {
            writer.cancel()
            inflater?.cancel()
            throw error
        } catch {
            writer.cancel()
            inflater?.cancel()
            throw HTTPUpstream.classify(error, url: response.url, timeout: timeout)
        }
        do {
            let raw = try await store.commit(writer)
            guard let inflater else { return (raw, nil) }
            return (raw, try await store.commit(inflater.writer))
        } catch {
            inflater?.cancel()
            throw Fetcher.describe(error, url: response.url)
        }
    }

    /// Plans the rewrite of absolute `info.base_url` / `shards_base_url`; writes the rewritten
    /// document when there is anything to change, else serves the original blob as it is.
    func rewriteInfo(_ json: BlobRecord, url: String) async throws -> (served: BlobRecord, plan: RepodataRewritePlan) {
        let reader = try await store.open(json.digest)
        // Made up front (an empty temp file, dropped when nothing changes): the worker below
        // cannot wait for the store.
        let writer = try await store.makeWriter()
        let plan: RepodataRewritePlan
        do {
            // Parsing and writing a 300 MB document block: the document pool, mapped bytes.
            plan = try await worker.runIfActive { () throws -> RepodataRewritePlan in
                try reader.withContiguousBytes { bytes in
                    let plan: RepodataRewritePlan
                    do {
                        plan = try RepodataRewrite.plan(document: bytes)
                    } catch {
                        throw UpstreamError.integrity(url: url, detail: "not a repodata document: \(error)")
                    }
                    guard !plan.isUnchanged else { return plan }
                    try Edit.apply(plan.edits, to: bytes) { (part) throws(StoreError) in try writer.writeBlocking(part) }
                    return plan
                }
            }
        } catch {
            writer.cancel()
            throw error
        }
        guard !plan.isUnchanged else {
            writer.cancel()
            return (json, plan)
        }
        return (try await store.commit(writer), plan)
    }

    /// Compresses a blob with zstd (level 3, two workers: about 0.7 s for 280 MB here).
    func compress(_ blob: BlobRecord) async throws -> BlobRecord {
        let reader = try await store.open(blob.digest)
        let writer = try await store.makeWriter()
        do {
            // On the document pool: compression is CPU work, the mapped reads and writes block.
            try await worker.runIfActive {
                let compressor = try ZstdCompressor(level: 3, workers: 2)
                try compressor.setPledgedSourceSize(UInt64(reader.size))
                try reader.withContiguousBytes { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let end = min(offset + (4 << 20), bytes.count)
                        try compressor.compress(UnsafeRawBufferPointer(rebasing: bytes[offset..<end])) { try writer.writeBlocking($0) }
                        offset = end
                    }
                }
                try compressor.finish { try writer.writeBlocking($0) }
            }
        } catch {
            writer.cancel()
            throw error
        }
        return try await store.commit(writer)
    }

    /// Rewrites a CEP-16 shard index whose URLs are absolute; returns the served blob and the
    /// parsed index (for the upstream URLs and package lookups).
    func rewriteShardIndex(_ blob: BlobRecord, url: String) async throws -> (served: BlobRecord, index: ShardIndex) {
        let reader = try await store.open(blob.digest)
        // Decoding (zstd, MessagePack) is CPU work: the document pool.
        let (bytes, index) = try await worker.runIfActive { () throws -> ([UInt8]?, ShardIndex) in
            let index: ShardIndex
            do {
                index = try Self.shardIndex(reader)
            } catch let error as StoreError {
                throw error
            } catch {
                throw UpstreamError.integrity(url: url, detail: "not a shard index: \(error)")
            }
            let rewritten = index.rewritten()
            return (rewritten.changed ? try rewritten.compressed() : nil, index)
        }
        guard let bytes else { return (blob, index) }
        return (try await store.ingest(bytes: bytes), index)
    }

    /// Where a stored upstream shard index puts its shards, read from the index itself: for rows
    /// that carry no resolved directory (written by an earlier hoard, whose resolver gave up on
    /// conda-index's `""`). nil when the index names nowhere fetchable.
    func shardsDirectory(ofIndex row: RepodataRow) async throws -> String? {
        guard let indexURL = row.upstreamURL else { return nil }
        let reader = try await store.open(row.digest)
        let index = try await worker.runIfActive { () throws -> ShardIndex in
            do {
                return try Self.shardIndex(reader)
            } catch let error as StoreError {
                throw error
            } catch {
                throw UpstreamError.integrity(url: indexURL, detail: "not a shard index: \(error)")
            }
        }
        return ShardLocation.directory(shardsBaseURL: index.shardsBaseURL, indexURL: indexURL)
    }

    /// Decodes a stored shard index from its mapped bytes. BLOCKING: call it on a worker pool.
    static func shardIndex(_ reader: any BlobReader) throws -> ShardIndex {
        let limit = DocumentKind.shardIndex.sizeLimit
        guard reader.size <= limit else { throw StoreError.sizeMismatch(expected: limit, actual: reader.size) }
        return try reader.withContiguousBytes { bytes in try ShardIndex(compressed: bytes) }
    }
}
