import Foundation
import HoardOCI
import HoardStore
import HoardUpstream
import Hummingbird
import Logging
import Synchronization

/// An upstream registry served under a prefix of the OCI front: `/v2/<name>/<repo>/…` pulls
/// `<repo>` through from it.
public struct UpstreamRegistry: Sendable, Hashable {
    public let name: String
    public let endpoint: RegistryEndpoint

    public init(name: String, endpoint: RegistryEndpoint) {
        self.name = name
        self.endpoint = endpoint
    }
}

/// Pull-through of manifests and blobs from configured upstream registries. A tag is resolved
/// upstream once per TTL (and its last resolution is used while upstream is down); everything
/// else is fetched by digest, verified, and kept unpinned (it can be fetched again).
final class OCIPullThrough: Sendable {
    let registries: [String: UpstreamRegistry]
    let client: RegistryClient
    let fetcher: Fetcher
    let store: Store
    let tagTTL: Duration
    let logger: Logger
    private let resolving = Mutex<[String: Task<OCIUpstreamTag, any Error>]>([:])

    init(registries: [UpstreamRegistry], client: RegistryClient, fetcher: Fetcher, store: Store, tagTTL: Duration, logger: Logger) {
        self.registries = Dictionary(registries.map { ($0.name, $0) }) { $1 }
        self.client = client
        self.fetcher = fetcher
        self.store = store
        self.tagTTL = tagTTL
        self.logger = logger
    }

    /// A repository under a registry prefix.
    struct Target: Sendable {
        let registry: UpstreamRegistry
        /// The repository upstream (below the registry's namespace).
        let repository: String
    }

    func target(_ name: RepositoryName) -> Target? {
        let components = name.components
        guard components.count >= 2, let registry = registries[String(components[0])] else { return nil }
        return Target(registry: registry, repository: components.dropFirst().joined(separator: "/"))
    }

    /// The answer for a route under a registry prefix; nil when the route is not pulled through.
    func respond(to route: OCIRoute, request: Request) async throws -> Response? {
        switch route {
        case .getManifest(let name, let reference, let head):
            guard let target = target(name) else { return nil }
            return try await upstreamErrors(notFound: .manifestUnknown) { try await self.manifest(target, reference, head: head) }
        case .getBlob(let name, let digest, let head):
            guard let target = target(name) else { return nil }
            return try await upstreamErrors(notFound: .blobUnknown) { try await self.blob(target, digest, head: head, request: request) }
        case .putManifest(let name, _, _), .deleteManifest(let name, _), .deleteBlob(let name, _), .startUpload(let name, _):
            guard let target = target(name) else { return nil }
            throw OCIError(.denied, "\(target.registry.name)/ is a read-only pull-through of \(target.registry.endpoint); push elsewhere")
        default:
            return nil
        }
    }

    // MARK: Manifests

    private func manifest(_ target: Target, _ reference: Reference, head: Bool) async throws -> Response {
        let digest: BlobDigest
        switch reference {
        case .digest(let d): digest = try Self.sha256(d)
        case .tag(let tag): digest = try await resolve(target, tag: tag.value).digest
        }
        let (record, mediaType) = try await storedManifest(target, digest)
        let file = try await OCIStoreAccess.open(record.digest, in: store, missing: OCIError(.manifestUnknown, "manifest \(digest) was evicted; retry"))
        let headers: HTTPFields = [.dockerContentDigest: digest.description, .eTag: "\"\(digest)\""]
        if head {
            var h = headers
            h[.contentType] = mediaType
            h[.contentLength] = String(file.size)
            return Response(status: .ok, headers: h, body: ResponseBody())
        }
        return .bytes(.ok, try await file.readAll(limit: Int64(Manifest.maxSize)), contentType: mediaType, headers: headers)
    }

    /// The tag's manifest digest: the stored resolution while younger than the TTL, else asked
    /// upstream (one request however many clients ask), else the stored one when upstream fails.
    func resolve(_ target: Target, tag: String) async throws -> OCIUpstreamTag {
        let registry = target.registry.name
        let stored = try await store.index.ociUpstreamTag(registry: registry, repository: target.repository, tag: tag)
        let now = Date().timeIntervalSince1970
        if let stored, now - stored.resolvedAt < Double(tagTTL.components.seconds) { return stored }
        let key = "\(registry)/\(target.repository):\(tag)"
        let task = resolving.withLock { running in
            if let task = running[key] { return task }
            let task = Task { () throws -> OCIUpstreamTag in
                defer { _ = self.resolving.withLock { $0.removeValue(forKey: key) } }
                do {
                    let resolved = try await self.client.resolve(target.registry.endpoint, repository: target.repository, reference: tag)
                    // The manifest first: a tag row may only name a committed blob.
                    let (_, mediaType) = try await self.storedManifest(target, resolved.digest)
                    let value = OCIUpstreamTag(digest: resolved.digest, mediaType: mediaType, resolvedAt: Date().timeIntervalSince1970)
                    try await self.store.index.ociUpstreamSetTag(registry: registry, repository: target.repository, tag: tag, value)
                    return value
                } catch let error as UpstreamError where !error.isNotFound {
                    guard let stored else { throw error }
                    self.logger.warning("upstream registry failed; using the last resolution of the tag", metadata: [
                        "tag": "\(key)", "digest": "\(stored.digest)", "error": "\(error)",
                    ])
                    return stored
                }
            }
            running[key] = task
            return task
        }
        guard let stored else { return try await task.value }
        // An unreachable registry can take the whole connect timeout to say so: past the TTL, a
        // stored resolution is served if upstream has not answered within `staleWait` (the
        // resolution goes on, and updates the tag when it succeeds).
        return try await withThrowingTaskGroup(of: OCIUpstreamTag?.self) { group in
            group.addTask { try await task.value }
            group.addTask {
                try? await Task.sleep(for: Self.staleWait)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first ?? stored
        }
    }

    /// How long a request waits for a tag's re-resolution before using the stored one.
    static let staleWait: Duration = .seconds(2)

    /// The manifest blob and its media type, fetched (and verified) when hoard lacks it.
    private func storedManifest(_ target: Target, _ digest: BlobDigest) async throws -> (BlobRecord, String) {
        let registry = target.registry.name
        let store = self.store
        let lookup: @Sendable () async throws -> (BlobRecord, String)? = {
            let known = try await store.index.ociUpstreamContent(registry: registry, repository: target.repository, digest: digest)
            guard known.known, let type = known.mediaType, let record = try await store.existingBlob(digest) else { return nil }
            return (record, type)
        }
        if let found = try await lookup() { return found }
        let client = self.client
        let fill = fetcher.fill(
            key: "oci-pull:\(registry)/\(target.repository)@\(digest)",
            lookup: { try await lookup()?.0 },
            source: {
                FillSource(url: "\(target.registry.endpoint)/\(target.repository)@\(digest)", expectedDigest: digest) {
                    try await client.send(
                        target.registry.endpoint, repository: target.repository, path: "manifests/\(digest)",
                        headers: ["Accept": RegistryClient.manifestAccept])
                }
            },
            onCommit: { record in
                let bytes = try await store.open(record.digest).readAll(limit: Int64(Manifest.maxSize))
                let manifest = try Manifest.parse(bytes)
                try await store.index.ociUpstreamAdd(registry: registry, repository: target.repository, digest: record.digest, mediaType: manifest.mediaType)
            })
        _ = try await fill.result()
        guard let found = try await lookup() else {
            throw OCIError(.manifestUnknown, "manifest \(digest) of \(target.registry.name)/\(target.repository) is not a manifest hoard can serve")
        }
        return found
    }

    // MARK: Blobs

    private func blob(_ target: Target, _ wire: OCIDigest, head: Bool, request: Request) async throws -> Response {
        let digest = try Self.sha256(wire)
        let registry = target.registry.name
        let store = self.store
        let lookup: @Sendable () async throws -> BlobRecord? = {
            guard try await store.index.ociUpstreamContent(registry: registry, repository: target.repository, digest: digest).known else { return nil }
            return try await store.existingBlob(digest)
        }
        let key = "oci-pull-blob:\(digest)"
        if fetcher.existing(key) == nil, let record = try await lookup(), let reader = try? await store.open(record.digest) {
            RequestNotes.current?.note(.hit)
            return OCIBlobRoutes.serve(reader, digest: digest.description, head: head, request: request)
        }
        let client = self.client
        // Keyed by digest alone: the same bytes asked through two repositories download once.
        let fill = fetcher.fill(
            key: key, lookup: lookup,
            source: {
                FillSource(url: "\(target.registry.endpoint)/\(target.repository)@\(digest)", expectedDigest: digest) {
                    try await client.blob(target.registry.endpoint, repository: target.repository, digest: digest)
                }
            },
            onCommit: { record in
                try await store.index.ociUpstreamAdd(registry: registry, repository: target.repository, digest: record.digest, mediaType: nil)
            })
        let fillHead = try await fill.head()
        // HEAD, a range or a conditional GET is answered by the serving decision, from the store
        // once the blob is there (the streamed miss below is always the whole blob, 200).
        if head || request.headers[.range] != nil || request.headers[.ifNoneMatch] != nil || request.headers[.ifModifiedSince] != nil {
            let record = try await fill.result()
            // A fill started through another repository named the blob there only.
            try await store.index.ociUpstreamAdd(registry: registry, repository: target.repository, digest: record.digest, mediaType: nil)
            return OCIBlobRoutes.serve(try await store.open(record.digest), digest: digest.description, head: head, request: request)
        }
        var response = FillResponse(fill: fill, head: fillHead, store: store, contentType: "application/octet-stream", cacheControl: "max-age=31536000")
            .respond()
        response.headers[.dockerContentDigest] = digest.description
        response.headers[.eTag] = "\"\(digest)\""
        return response
    }

    // MARK: Helpers

    static func sha256(_ digest: OCIDigest) throws -> BlobDigest {
        guard digest.algorithm == .sha256, let blob = try? BlobDigest(parsing: digest.hex) else {
            throw OCIError(.unsupported, "pull-through fetches sha256 digests only, not \(digest.algorithm.rawValue)", status: 404)
        }
        return blob
    }

    /// Upstream failures as OCI errors: absent upstream is absent here; the rest is a gateway error.
    private func upstreamErrors(notFound: OCIErrorCode, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let error as UpstreamError {
            if error.isNotFound { throw OCIError(notFound, "\(error)") }
            logger.warning("pull-through failed", metadata: ["error": "\(error)"])
            throw OCIError(.unsupported, "\(error)", status: error.isTimeout ? 504 : 502)
        }
    }
}
