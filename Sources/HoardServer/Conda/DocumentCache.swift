import Foundation
import HoardConda
import HoardStore
import HoardUpstream
import Logging
import Synchronization

/// Keeps every upstream document of every channel: fresh for its TTL, then revalidated with a
/// conditional request. One revalidation per document runs at a time, however many clients
/// wait, and while it runs clients get the current copy (stale-while-revalidate). When upstream
/// fails, the last good copy is served (stale-if-error); with no copy the error goes to the client.
/// Upstream's "not found" (404, 403, 410) for a document hoard has no copy of is kept the same
/// way (`MissingDocument`), so it is answered again while upstream is down.
final class DocumentCache: Sendable {
    let store: Store
    /// Each channel's upstream, by channel name.
    let upstreams: [String: any ChannelUpstream]
    let builder: DocumentBuilder
    let configuredTTL: Duration?
    let logger: Logger
    /// Offline (`--offline`): only what the store holds is served, nothing is ever fetched or
    /// revalidated, and a document hoard has no copy of is an `OfflineMiss`.
    let offline: Bool

    private let entries = Mutex<[DocumentKey: CachedDocument]>([:])
    private let refreshes = Mutex<[DocumentKey: Task<CachedDocument, any Error>]>([:])
    /// After a failed revalidation, no new attempt before this time (unix seconds).
    private let backoff = Mutex<[DocumentKey: Double]>([:])

    init(
        store: Store, upstreams: [String: any ChannelUpstream], builder: DocumentBuilder, configuredTTL: Duration?, logger: Logger,
        offline: Bool = false
    ) {
        self.offline = offline
        self.store = store
        self.upstreams = upstreams
        self.builder = builder
        self.configuredTTL = configuredTTL
        self.logger = logger
    }

    /// The document to serve now, fetching it first only when hoard has no copy at all. Throws
    /// upstream's not-found error (remembered, or just received) when the document does not exist.
    func snapshot(_ key: DocumentKey, channel: CondaChannel) async throws -> DocumentSnapshot {
        let now = Date().timeIntervalSince1970
        guard let current = try await stored(key) else {
            RequestNotes.current?.note(.miss)
            if offline { throw OfflineMiss(what: "\(key)") }
            return try await refresh(key, channel: channel, current: nil).value.get()
        }
        if !offline && !current.isFresh(at: now) && backoff.withLock({ ($0[key] ?? 0) <= now }) {
            _ = refresh(key, channel: channel, current: current)
        }
        RequestNotes.current?.note(.hit)
        return try current.get()
    }

    /// The copy hoard holds (in memory, else in the index), without asking upstream.
    func cached(_ key: DocumentKey) async throws -> DocumentSnapshot? {
        try await stored(key)?.snapshot
    }

    /// The document as upstream has it now: like `snapshot`, but a copy that is no longer fresh
    /// is revalidated before it is returned, not in the background (`hoard mirror` must fill
    /// from upstream's current list). Upstream failing still gives the copy held, as serving does.
    func currentSnapshot(_ key: DocumentKey, channel: CondaChannel) async throws -> DocumentSnapshot {
        let current = try await stored(key)
        if let current, current.isFresh(at: Date().timeIntervalSince1970) { return try current.get() }
        return try await refresh(key, channel: channel, current: current).value.get()
    }

    /// Fetches a document again after the blobs of `lost` (the snapshot held) turned out to be
    /// gone from the store: unconditionally, since a 304 would only confirm a copy hoard no longer
    /// has (see `fetch`). The held snapshot stays in memory: when upstream fails it is still what
    /// hoard has (its bytes may well be in memory), and callers decide what they can do with it.
    func refetch(_ key: DocumentKey, lost: DocumentSnapshot, channel: CondaChannel) async throws -> DocumentSnapshot {
        if offline { throw OfflineMiss(what: "\(key)", reason: "is gone from hoard's store (its blob was removed)") }
        logger.warning("a cached document's blob is gone; fetching it again", metadata: ["document": "\(key)"])
        let current = entries.withLock { $0[key] } ?? .present(lost)
        return try await refresh(key, channel: channel, current: current).value.get()
    }

    /// What hoard holds for `key`: in memory, else in the index (a snapshot, else a remembered
    /// not-found).
    private func stored(_ key: DocumentKey) async throws -> CachedDocument? {
        if let entry = entries.withLock({ $0[key] }) { return entry }
        let entry: CachedDocument
        if let row = try await store.index.repodata(channel: key.channel, label: key.label, subdir: key.subdir, name: key.kind.rawValue) {
            do {
                entry = .present(try await load(key, row: row))
            } catch StoreError.blobNotFound {
                return nil  // gone from the store: fetch it again
            }
        } else if let row = try await store.index.missingDocument(
            channel: key.channel, label: key.label, subdir: key.subdir, name: key.kind.rawValue)
        {
            entry = .missing(MissingDocument(key: key, row: row, ttl: missingTTL))
        } else {
            return nil
        }
        return entries.withLock { entries in
            if let existing = entries[key] { return existing }
            entries[key] = entry
            return entry
        }
    }

    /// A remembered not-found stays fresh as long as a document would without Cache-Control:
    /// the configured TTL, else ten minutes. Upstream's Cache-Control on an error page is not
    /// used (static servers send their defaults there, often none or a year).
    private var missingTTL: Double { DocumentSnapshot.ttl(configured: configuredTTL, cacheControl: nil) }

    private func load(_ key: DocumentKey, row: RepodataRow) async throws -> DocumentSnapshot {
        var zst: ServedBlob?
        if let digest = row.zstDigest { zst = try await ServedBlob.load(digest, from: store) }
        return DocumentSnapshot(
            key: key, row: row,
            served: try await ServedBlob.load(row.servedDigest ?? row.digest, from: store),
            zst: zst,
            ttl: DocumentSnapshot.ttl(configured: configuredTTL, cacheControl: row.upstreamCacheControl)
        )
    }

    /// Starts (or joins) the one revalidation of `key`.
    private func refresh(_ key: DocumentKey, channel: CondaChannel, current: CachedDocument?) -> Task<CachedDocument, any Error> {
        refreshes.withLock { running in
            if let task = running[key] { return task }
            let task = Task {
                defer { _ = self.refreshes.withLock { $0.removeValue(forKey: key) } }
                let entry: CachedDocument
                do {
                    if let refreshed = await self.sharedRefresh(key, current: current) {
                        entry = refreshed
                    } else {
                        entry = .present(try await self.fetch(key, channel: channel, current: current?.snapshot))
                    }
                } catch let error as UpstreamError where error.isNotFound && current?.snapshot == nil {
                    // A copy hoard holds is kept on a not-found (stale-if-error, as for any error);
                    // with none, upstream's answer is what hoard holds from now on.
                    entry = .missing(await self.remember(key, notFound: error))
                } catch {
                    guard let current else { throw error }
                    let retry = Date().timeIntervalSince1970 + min(current.ttl, 30)
                    self.backoff.withLock { $0[key] = retry }
                    self.logger.warning(
                        current.snapshot == nil ? "upstream failed; answering its last 'not found' again" : "upstream failed; serving the last good copy",
                        metadata: [
                            "document": "\(key)", "error": "\(error)",
                            "age_seconds": "\(Int(Date().timeIntervalSince1970 - current.validatedAt))",
                        ])
                    return current
                }
                self.entries.withLock { $0[key] = entry }
                self.backoff.withLock { _ = $0.removeValue(forKey: key) }
                return entry
            }
            running[key] = task
            return task
        }
    }

    /// With a shared index (several nodes over one bucket), what another node learned from
    /// upstream since `current` was validated, while it is still fresh: taken instead of asking
    /// upstream again. nil when there is none (or no shared index: then this is a nil check), and
    /// when the bucket cannot be read: upstream is asked, as without it.
    private func sharedRefresh(_ key: DocumentKey, current: CachedDocument?) async -> CachedDocument? {
        guard store.index.shared != nil else { return nil }
        do {
            guard let state = try await store.index.sharedDocument(channel: key.channel, label: key.label, subdir: key.subdir, name: key.kind.rawValue)
            else { return nil }
            let now = Date().timeIntervalSince1970
            let held = current?.validatedAt ?? -.infinity
            switch state {
            case .snapshot(let row):
                let ttl = DocumentSnapshot.ttl(configured: configuredTTL, cacheControl: row.upstreamCacheControl)
                guard row.validatedAt > held, now - row.validatedAt < ttl else { return nil }
                logger.debug("using another node's refresh", metadata: ["document": "\(key)"])
                return .present(try await load(key, row: row))
            case .missing(let row):
                // A copy held is kept over a not-found, as when upstream says so itself.
                guard current?.snapshot == nil, row.checkedAt > held, now - row.checkedAt < missingTTL else { return nil }
                return .missing(MissingDocument(key: key, row: row, ttl: missingTTL))
            }
        } catch {
            logger.debug("could not use the shared record of a document; asking upstream", metadata: ["document": "\(key)", "error": "\(error)"])
            return nil
        }
    }

    /// Keeps upstream's not-found for a document, in memory and in the index (so it outlives a
    /// restart while upstream is down). Failing to write it only costs that: it is logged.
    private func remember(_ key: DocumentKey, notFound error: UpstreamError) async -> MissingDocument {
        var url = "\(key)"
        var status = 404
        if case .status(let failedURL, let code) = error {
            url = failedURL
            status = code
        }
        let row = MissingDocumentRow(
            channel: key.channel, label: key.label, subdir: key.subdir, name: key.kind.rawValue,
            upstreamURL: url, status: status, checkedAt: Date().timeIntervalSince1970)
        do {
            try await store.index.saveMissingDocument(row)
        } catch {
            logger.warning("could not record a document upstream does not have", metadata: ["document": "\(key)", "error": "\(error)"])
        }
        logger.debug("upstream has no such document", metadata: ["document": "\(key)", "url": "\(url)", "status": "\(status)"])
        return MissingDocument(key: key, row: row, ttl: missingTTL)
    }

    /// Asks the channel's upstream, conditionally when there is a copy.
    private func fetch(_ key: DocumentKey, channel: CondaChannel, current held: DocumentSnapshot?) async throws -> DocumentSnapshot {
        guard let upstream = upstreams[channel.name] else { throw UpstreamError.status(url: channel.upstream, code: 404) }
        // A 304 confirms the blobs hoard holds; when one is gone, ask for the body instead.
        let current = await intact(held) ? held : nil
        switch try await upstream.fetchDocument(key, current: current) {
        case .notModified(let validators):
            guard let current else {
                throw UpstreamError.transfer(url: channel.upstream, reason: "answered 'not modified' to an unconditional request")
            }
            return try await revalidated(current, validators: validators)
        case .body(let response, let source, let zstd, let digest, let validators):
            let snapshot = try await build(key, from: response, source: source, zstd: zstd, digest: digest, validators: validators)
            logger.info("fetched from upstream", metadata: ["document": "\(key)", "url": "\(source)", "size": "\(snapshot.served.size)"])
            return snapshot
        }
    }

    /// Whether every blob of the snapshot is still in the store (its row and its file).
    private func intact(_ snapshot: DocumentSnapshot?) async -> Bool {
        guard let row = snapshot?.row else { return false }
        for digest in [row.digest, row.servedDigest, row.zstDigest].compactMap({ $0 }) {
            guard (try? await store.existingBlob(digest)) != nil else { return false }
        }
        return true
    }

    private func revalidated(_ current: DocumentSnapshot, validators: DocumentValidators) async throws -> DocumentSnapshot {
        var row = current.row
        row.validatedAt = Date().timeIntervalSince1970
        row.upstreamETag = validators.etag ?? row.upstreamETag
        row.upstreamLastModified = validators.lastModified ?? row.upstreamLastModified
        row.upstreamCacheControl = validators.cacheControl ?? row.upstreamCacheControl
        try await store.index.markRepodataValidated(row)
        logger.debug("upstream copy unchanged", metadata: ["document": "\(current.key)"])
        return DocumentSnapshot(key: current.key, row: row, served: current.served, zst: current.zst,
                                ttl: DocumentSnapshot.ttl(configured: configuredTTL, cacheControl: row.upstreamCacheControl))
    }

    /// Stores a new snapshot: its blobs first, then the index row that names them.
    private func build(
        _ key: DocumentKey, from response: UpstreamResponse, source: String, zstd: Bool, digest: BlobDigest?, validators: DocumentValidators
    ) async throws -> DocumentSnapshot {
        let now = Date().timeIntervalSince1970
        let limit = builder.limit(for: key.kind)
        // A .zst of repodata is decompressed while it streams: a bomb stops at `limit`.
        let (raw, inflated) = try await builder.ingest(
            response, limit: zstd ? limit / 4 : limit, signature: key.kind.signature(zstd: zstd), expectedDigest: digest,
            inflateLimit: zstd && key.kind.isRewrittenJSON ? limit : nil,
            validate: { [kind = key.kind, url = response.url] bytes in try kind.validate(bytes, url: url) })
        var row = RepodataRow(
            channel: key.channel, label: key.label, subdir: key.subdir, name: key.kind.rawValue, digest: raw.digest,
            upstreamURL: source, upstreamETag: validators.etag, upstreamLastModified: validators.lastModified,
            upstreamCacheControl: validators.cacheControl, fetchedAt: now, validatedAt: now
        )
        switch key.kind {
        case .repodata, .currentRepodata:
            let json = inflated ?? raw
            let (served, plan) = try await builder.rewriteInfo(json, url: response.url)
            row.digest = json.digest
            row.servedDigest = served.digest
            row.upstreamBaseURL = plan.upstreamBaseURL
            row.upstreamShardsBaseURL = plan.upstreamShardsBaseURL
            if key.kind == .repodata {
                // Upstream's own .zst is served as is when nothing was rewritten: same snapshot.
                row.zstDigest = zstd && plan.isUnchanged ? raw.digest : try await builder.compress(served).digest
            }
        case .shardIndex:
            let (served, index) = try await builder.rewriteShardIndex(raw, url: response.url)
            row.servedDigest = served.digest
            row.upstreamBaseURL = Self.resolve(index.baseURL ?? "./", against: response.url)
            // Shards are fetched from where this index puts them, whatever hoard serves.
            row.upstreamShardsBaseURL = ShardLocation.directory(shardsBaseURL: index.shardsBaseURL, indexURL: response.url)
        case .repodataBz2, .channeldata:
            row.servedDigest = raw.digest
        }
        try await store.index.saveRepodata(row)
        return try await load(key, row: row)
    }

    /// Resolves a (possibly relative) URL against the document it came from.
    static func resolve(_ reference: String, against base: String) -> String? {
        URL(string: reference, relativeTo: URL(string: base))?.absoluteString
    }
}

extension UpstreamResponse {
    /// Reads and drops a body that is not used, so the connection can be reused.
    func discardBody() async throws {
        _ = try await collect(limit: 1 << 20)
    }
}
