import Foundation
import HoardConda
import HoardStore
import HoardUpstream
import Hummingbird
import Logging

/// The conda channel front: `/<channel>[/label/<label>]/<subdir>/<file>` and
/// `/<channel>/channeldata.json`, answered from the store and pulled through from upstream.
struct CondaFront: Sendable {
    let channels: [String: CondaChannel]
    let store: Store
    let documents: DocumentCache
    let expectations: PackageExpectations
    let fetcher: Fetcher
    /// Each channel's upstream, by channel name (the same the document cache uses).
    let upstreams: [String: any ChannelUpstream]
    let logger: Logger
    /// The fast path's table (nil: fast path off); answers served from the store are published.
    var hot: HotTable? = nil
    /// Who may read which channel (nil: every channel is open).
    var access: ChannelAccess? = nil
    /// `--s3-redirect`: stored packages and shards are answered with a 307 to the bucket.
    var redirect: BlobRedirect? = nil

    /// The fast path checks no credentials: a protected channel's answers are never published.
    private func publishing(for channel: String) -> HotTable? {
        if let access, access.isProtected(channel) { return nil }
        return hot
    }
    /// Filtered repodata (offline) and generated shards.
    let derived: DerivedRepodata
    /// Offline (`--offline`): what the store lacks is a 404 (`OfflineMiss`), never fetched.
    var offline = false

    static let immutable = "public, max-age=31536000, immutable"

    /// Answers `/<channel>/…`, parsed from the raw path. Throws what `ErrorResponses` answers:
    /// `UnknownChannel` when the first segment names no configured channel (whatever the
    /// method), `MethodNotAllowed` for anything but GET and HEAD, the path's and the pull's errors.
    /// `pathToken` is the token of a `/t/<TOKEN>/` prefix (already taken off the path), `client`
    /// the peer's address (wrong passwords are counted against it).
    func respond(to request: Request, pathToken: String? = nil, client: String = "unknown") async throws -> Response {
        let rawPath = request.uri.path
        guard let named = channels[String(RawPath.firstSegment(rawPath))] else { throw unknownChannel(rawPath) }
        // Before anything else, so nothing about a protected channel answers without credentials.
        try await access?.authorize(channel: named.name, request: request, pathToken: pathToken, client: client)
        guard request.method == .get || request.method == .head else { throw MethodNotAllowed(allow: "GET, HEAD") }
        let path = try CondaRequestPath.parse(rawPath: rawPath)
        guard let channel = channels[path.channel.rawValue] else { throw unknownChannel(rawPath) }
        let label = path.label?.rawValue ?? ""
        switch path.file {
        case .channeldata:
            return try await document(DocumentKey(channel: channel.name, label: label, subdir: "", kind: .channeldata), channel: channel, request: request)
        case .subdir(let subdir, let file):
            let subdir = subdir.rawValue
            switch file {
            case .repodata(let variant):
                return try await repodata(variant, channel: channel, label: label, subdir: subdir, request: request)
            case .shardIndex:
                return try await shardIndex(channel: channel, label: label, subdir: subdir, request: request)
            case .shard(let hex):
                return try await shard(hex: hex, channel: channel, label: label, subdir: subdir, request: request)
            case .package(let filename):
                return try await package(filename, channel: channel, label: label, subdir: subdir, request: request)
            }
        }
    }

    // MARK: Documents

    private func repodata(_ variant: CondaRequestPath.RepodataVariant, channel: CondaChannel, label: String, subdir: String, request: Request) async throws -> Response {
        switch variant {
        case .json, .jsonZst:
            let key = DocumentKey(channel: channel.name, label: label, subdir: subdir, kind: .repodata)
            return try await servedRepodata(key, channel: channel) { snapshot in
                if variant == .json { return try await serve(snapshot.served, of: snapshot, contentType: "application/json", request: request, channel: channel) }
                guard let zst = snapshot.zst else { throw StoreError.blobNotFound(snapshot.row.digest) }
                return try await serve(zst, of: snapshot, contentType: "application/zstd", request: request, channel: channel)
            }
        case .currentJson:
            return try await serving(DocumentKey(channel: channel.name, label: label, subdir: subdir, kind: .currentRepodata), channel: channel) { snapshot in
                let snapshot = try await derived.served(snapshot)
                return try await serve(snapshot.served, of: snapshot, contentType: "application/json", request: request, channel: channel)
            }
        case .jsonBz2:
            // Filtered offline, hoard cannot make a matching .bz2: clients use the .zst or .json.
            if derived.filtering { throw OfflineMiss(what: "\(channel.name)/\(subdir)/repodata.json.bz2", reason: "is not served filtered") }
            return try await document(DocumentKey(channel: channel.name, label: label, subdir: subdir, kind: .repodataBz2), channel: channel, request: request)
        }
    }

    private func document(_ key: DocumentKey, channel: CondaChannel, request: Request) async throws -> Response {
        try await serving(key, channel: channel) { snapshot in
            try await serve(snapshot.served, of: snapshot, contentType: key.kind.contentType, request: request, channel: channel)
        }
    }

    /// The repodata.json snapshot served for a subdir: filtered offline; offline, when hoard
    /// holds no repodata.json but the upstream shard index, one made from the stored shards.
    private func servedRepodata(_ key: DocumentKey, channel: CondaChannel, _ respond: (DocumentSnapshot) async throws -> Response) async throws -> Response {
        do {
            return try await serving(key, channel: channel) { snapshot in try await respond(try await derived.served(snapshot)) }
        } catch let miss as OfflineMiss where derived.filtering {
            return try await respond(try await repodataFromShards(key, miss: miss))
        }
    }

    /// The repodata.json snapshot this front serves for `key` (filtered offline; made from the
    /// stored shards when hoard holds only those): the OCI mirror view describes this one, so an
    /// `oci://` client resolves against exactly what a conda client sees.
    func servedRepodataSnapshot(_ key: DocumentKey, channel: CondaChannel) async throws -> DocumentSnapshot {
        do {
            return try await derived.served(try await documents.snapshot(key, channel: channel))
        } catch let miss as OfflineMiss where derived.filtering {
            return try await repodataFromShards(key, miss: miss)
        }
    }

    private func repodataFromShards(_ key: DocumentKey, miss: OfflineMiss) async throws -> DocumentSnapshot {
        let indexKey = DocumentKey(channel: key.channel, label: key.label, subdir: key.subdir, kind: .shardIndex)
        guard let index = try? await documents.cached(indexKey) else { throw miss }
        return try await derived.repodata(fromShardIndex: index)
    }

    /// Answers with the current snapshot of `key`; when a blob of it is gone from the store
    /// (removed by hand, or by `verify --repair`), the document is fetched again rather than failing.
    private func serving(_ key: DocumentKey, channel: CondaChannel, _ respond: (DocumentSnapshot) async throws -> Response) async throws -> Response {
        let snapshot = try await documents.snapshot(key, channel: channel)
        do {
            return try await respond(snapshot)
        } catch StoreError.blobNotFound {
            return try await respond(try await documents.refetch(key, lost: snapshot, channel: channel))
        }
    }

    /// A document representation: strong ETag of its own bytes, short max-age.
    private func serve(_ blob: ServedBlob, of snapshot: DocumentSnapshot, contentType: String, request: Request, channel: CondaChannel) async throws -> Response {
        let source: RepresentationResponse.Source
        if let memory = blob.memory {
            source = .memory(memory)
        } else {
            source = .blob(try await store.open(blob.digest))
        }
        let answer = RepresentationResponse(
            source: source,
            validators: Validators(digestHex: blob.digest.hex, lastModified: snapshot.lastModified),
            contentType: contentType,
            cacheControl: "public, max-age=\(snapshot.clientMaxAge)"
        )
        let response = answer.respond(to: request)
        publishing(for: channel.name)?.publish(answered: request, with: response, answer: answer, expires: snapshot.validatedAt + snapshot.ttl)
        return response
    }

    /// The CEP-16 shard index: upstream's (offline: the copy hoard holds), else, when there is
    /// none, one generated from the repodata hoard serves. Offline and filtered, always the
    /// generated one (upstream's names packages the store does not hold).
    private func shardIndex(channel: CondaChannel, label: String, subdir: String, request: Request) async throws -> Response {
        if !derived.filtering {
            do {
                return try await document(DocumentKey(channel: channel.name, label: label, subdir: subdir, kind: .shardIndex), channel: channel, request: request)
            } catch where OfflineMiss.isNotFound(error) {
                // No upstream shards: generated below.
            }
        }
        let repodataKey = DocumentKey(channel: channel.name, label: label, subdir: subdir, kind: .repodata)
        return try await servedRepodata(repodataKey, channel: channel) { snapshot in
            let generated = try await derived.shards(for: snapshot)
            return try await serve(generated.index.served, of: generated.index, contentType: DocumentKind.shardIndex.contentType, request: request, channel: channel)
        }
    }

    /// Makes sure a generated shard is in the store when hoard generates this subdir's shards
    /// (a generated shard that was evicted is made again).
    private func regenerateShard(hex: String, channel: CondaChannel, label: String, subdir: String) async {
        let repodataKey = DocumentKey(channel: channel.name, label: label, subdir: subdir, kind: .repodata)
        guard offline || derived.hasGenerated(repodataKey) else { return }
        let key = PackageExpectations.shardKey(channel: channel.name, label: label, subdir: subdir, hex: hex)
        guard (try? await store.index.condaFile(key)) == nil else { return }
        do {
            let served: DocumentSnapshot
            do {
                served = try await derived.served(try await documents.snapshot(repodataKey, channel: channel))
            } catch let miss as OfflineMiss where derived.filtering {
                served = try await repodataFromShards(repodataKey, miss: miss)
            }
            guard try await derived.shards(for: served).shardHexes.contains(hex) else { return }
            derived.forget(repodataKey)
            _ = try await derived.shards(for: served)
        } catch {
            logger.debug("could not generate shards again", metadata: ["document": "\(repodataKey)", "error": "\(error)"])
        }
    }

    // MARK: Packages and shards

    /// A package file, from the store or pulled through (the OCI mirror serves its blobs by this).
    func package(_ filename: CondaFilename, channel: CondaChannel, label: String, subdir: String, request: Request) async throws -> Response {
        let key = CondaFileKey(channel: channel.name, label: label, subdir: subdir, filename: filename.rawValue)
        let contentType = filename.format == .conda ? "application/octet-stream" : "application/x-bzip2"
        return try await blob(key, contentType: contentType, request: request) { [expectations, documents, upstreams, logger] in
            // What the bytes must hash to: the channel's metadata hoard holds, else what the client
            // says it expects, else the subdir's repodata fetched now (cached from then on).
            // When hoard holds repodata it cannot read (its blob is gone), it is fetched again;
            // if that does not help, the package is refused rather than pulled through unchecked.
            let repodataKey = DocumentKey(channel: channel.name, label: label, subdir: subdir, kind: .repodata)
            @Sendable func expected() async throws -> PackageExpectations.Expectation? {
                do {
                    return try await expectations.expectation(channel: channel.name, label: label, subdir: subdir, filename: filename)
                } catch .repodataUnreadable(let lost, let error) {
                    logger.warning("cached repodata unreadable; fetching it again", metadata: ["file": "\(key.filename)", "error": "\(error)"])
                    _ = try await documents.refetch(repodataKey, lost: lost, channel: channel)
                    return try await expectations.expectation(channel: channel.name, label: label, subdir: subdir, filename: filename)
                }
            }
            var expectation = try await expected()
            if expectation == nil, let header = request.headers[.init("X-Expected-SHA256")!],
               let digest = try? BlobDigest(parsing: header.trimmed().lowercased()) {
                expectation = .init(digest: digest, size: nil)
            }
            if expectation == nil {
                let held: DocumentSnapshot?
                do {
                    held = try await documents.snapshot(repodataKey, channel: channel)
                } catch {
                    held = nil
                    logger.warning("no repodata to verify a package against", metadata: ["file": "\(key.filename)", "error": "\(error)"])
                }
                if held != nil { expectation = try await expected() }
            }
            let repodata = try? await documents.cached(repodataKey)
            guard let upstream = upstreams[channel.name] else { throw UpstreamError.status(url: channel.upstream, code: 404) }
            var source = upstream.packageSource(
                label: label, subdir: subdir, filename: filename, expected: expectation, baseURL: repodata?.row.upstreamBaseURL)
            // A package without a digest to check must at least be the right kind of file (with
            // one, the digest decides, and an error page fails it).
            if expectation == nil { source.signature = filename.format == .conda ? .zip : .bzip2 }
            return source
        }
    }

    /// Shards are named by their sha256: cached forever, verified against their name. Both
    /// `<subdir>/shards/<hex>` and `<subdir>/<hex>` come here (one blob); upstream, a shard is
    /// fetched from where the subdir's upstream index puts it, so that index is fetched first
    /// when hoard has none.
    private func shard(hex: String, channel: CondaChannel, label: String, subdir: String, request: Request) async throws -> Response {
        let key = PackageExpectations.shardKey(channel: channel.name, label: label, subdir: subdir, hex: hex)
        await regenerateShard(hex: hex, channel: channel, label: label, subdir: subdir)
        return try await blob(key, contentType: "application/octet-stream", request: request) { [documents, upstreams] in
            let index = try await documents.snapshot(DocumentKey(channel: channel.name, label: label, subdir: subdir, kind: .shardIndex), channel: channel)
            guard let upstream = upstreams[channel.name] else { throw UpstreamError.status(url: channel.upstream, code: 404) }
            var directory = index.row.upstreamShardsBaseURL
            if directory == nil { directory = try await documents.builder.shardsDirectory(ofIndex: index.row) }
            return try upstream.shardSource(label: label, subdir: subdir, hex: hex, shardsDirectory: directory)
        }
    }

    /// An immutable file: from the store when it is there, else pulled through, with one
    /// upstream request however many clients ask at once.
    private func blob(_ key: CondaFileKey, contentType: String, request: Request, source: @escaping @Sendable () async throws -> FillSource) async throws -> Response {
        let fillKey = "conda:\(key.channel)/\(key.label)/\(key.subdir)/\(key.filename)"
        let store = self.store
        @Sendable func stored() async throws -> BlobRecord? {
            guard let digest = try await store.index.condaFile(key) else { return nil }
            return try await store.existingBlob(digest)
        }
        if fetcher.existing(fillKey) == nil, let record = try await stored(), let reader = try? await store.open(record.digest) {
            RequestNotes.current?.note(.hit)
            let validators = Validators(digestHex: record.digest.hex, lastModified: nil)
            if let redirect, let response = try await redirect.response(for: record.digest, request: request, validators: validators) {
                return response
            }
            let answer = RepresentationResponse(
                source: .blob(reader),
                validators: validators,
                contentType: contentType,
                cacheControl: Self.immutable
            )
            let response = answer.respond(to: request)
            let digest = record.digest
            publishing(for: key.channel)?.publish(answered: request, with: response, answer: answer) {
                (try? await stored())?.digest == digest
            }
            return response
        }
        if offline { throw OfflineMiss(what: "\(key.channel)/\(key.label.isEmpty ? "" : "label/\(key.label)/")\(key.subdir)/\(key.filename)") }
        let fill = fetcher.fill(key: fillKey, lookup: stored, source: source) { record in
            try await store.index.setCondaFile(key, digest: record.digest)
        }
        let head = try await fill.head()
        if let digest = head.expectedDigest {
            // The client already holds these bytes (their name is their sha256): no need to
            // wait for a fill that is still committing them.
            let validators = Validators(digestHex: digest.hex, lastModified: nil)
            if validators.notModified(request.headers) {
                var headers: HTTPFields = [.cacheControl: Self.immutable]
                validators.apply(to: &headers)
                return Response(status: .notModified, headers: headers)
            }
        }
        if request.headers[.range] != nil || request.method == .head {
            // A range of a file still downloading, or HEAD (whose validators must be those a GET
            // will carry): wait for the blob, then answer from the store.
            let record = try await fill.result()
            return RepresentationResponse(
                source: .blob(try await store.open(record.digest)),
                validators: Validators(digestHex: record.digest.hex, lastModified: nil),
                contentType: contentType, cacheControl: Self.immutable
            ).respond(to: request)
        }
        return FillResponse(fill: fill, head: head, store: store, contentType: contentType, cacheControl: Self.immutable).respond()
    }

    // MARK: Errors

    /// The answer for a path whose first segment is not a channel of this hoard.
    func unknownChannel(_ rawPath: String) -> UnknownChannel {
        UnknownChannel(name: RawPath.firstSegment(rawPath), served: Array(channels.keys))
    }
}
