import HoardOCI
import HoardStore
import Hummingbird
import Logging
import NIOPosix

/// The OCI distribution front (`/v2/…`) and its token endpoint (`/token`): parses the request
/// into an `OCIRoute` before anything touches the store and checks auth; every failure is thrown,
/// and `ErrorResponses.oci` answers it with the spec's JSON error body.
struct OCIFront: Sendable {
    let store: Store
    let auth: OCIAuthenticator
    let uploads: UploadSessions
    /// Upstream registries under their prefixes; nil when none is configured.
    let pullThrough: OCIPullThrough?
    /// The conda channels as OCI mirrors under their namespace (nil: no conda front).
    let mirror: CondaMirror?
    /// Who may read the mirrors of protected channels (nil: no conda front).
    let channelAccess: ChannelMirrorAccess?
    let logger: Logger
    /// The fast path's table (nil: fast path off); blob GETs served from the store are published.
    var hot: HotTable? = nil
    /// `--s3-redirect`: blob GETs are answered with a 307 to the bucket.
    var redirect: BlobRedirect? = nil

    init(
        store: Store, settings: ServerSettings, pullThrough: OCIPullThrough? = nil, conda: CondaFront?, bcrypt: NIOThreadPool,
        tokenSecret: [UInt8], logger: Logger
    ) throws {
        self.store = store
        self.pullThrough = pullThrough
        self.logger = logger
        mirror = try conda.map { try CondaMirror(namespace: settings.oci.condaNamespace, conda: $0) }
        channelAccess = conda?.access.map { ChannelMirrorAccess(namespace: settings.oci.condaNamespace, access: $0) }
        auth = try OCIAuthenticator(
            settings: settings.oci, tokenSecret: tokenSecret, tls: settings.tls != nil,
            bcrypt: bcrypt)
        uploads = UploadSessions(
            store: store.blobs.uploads, expiry: settings.oci.uploadExpiry,
            limits: UploadLimits(maxSize: settings.oci.maxUploadSize, maxSessions: settings.oci.maxUploadSessions, storeMaxSize: settings.maxSize),
            logger: logger)
    }

    /// `client` is the peer's address (wrong credentials are counted against it). Throws what
    /// `ErrorResponses.oci` answers with the spec's JSON error body.
    func respond(to request: Request, client: String) async throws -> Response {
        let route = try OCIRoute.parse(
            method: request.method.rawValue, rawPath: request.uri.path, query: try OCIRoute.parseQuery(request.uri.query ?? ""))
        if let refusal = mirror?.refusal(of: route) { throw refusal }
        if let channelAccess, let repository = route.repository, let channel = channelAccess.protectedChannel(of: repository.value) {
            // A protected channel's mirror: its readers and token holders, nobody else.
            try await channelAccess.authorize(route, channel: channel, request: request, client: client, auth: auth)
        } else {
            try await auth.authorize(route, request: request, client: client)
        }
        var response: Response
        if let mirrored = try await mirror?.respond(to: route, request: request) {
            response = mirrored
        } else {
            response = try await dispatch(route, request: request)
        }
        response.headers[.dockerDistributionAPIVersion] = "registry/2.0"
        return response
    }

    func respondToken(to request: Request, client: String) async throws -> Response {
        try await TokenRoute(auth: auth, channels: channelAccess).respond(to: request, client: client)
    }

    private func dispatch(_ route: OCIRoute, request: Request) async throws -> Response {
        if let pullThrough, let response = try await pullThrough.respond(to: route, request: request) { return response }
        let manifests = OCIManifestRoutes(store: store)
        let blobs = OCIBlobRoutes(store: store, hot: hot, redirect: redirect)
        let listings = OCIListingRoutes(store: store)
        var upload = OCIUploadRoutes(store: store, uploads: uploads, logger: logger)
        upload.protectedChannels = Set(channelAccess?.access.protectedChannels ?? [])
        switch route {
        case .apiVersionCheck:
            return .bytes(.ok, Array("{}".utf8), contentType: "application/json")
        case .catalog(let page):
            return try await listings.catalog(page)
        case .listTags(let name, let page):
            return try await listings.tags(name, page)
        case .getManifest(let name, let reference, let head):
            return try await manifests.get(name, reference, head: head)
        case .putManifest(let name, let reference, let extraTags):
            return try await manifests.put(name, reference, extraTags: extraTags, request: request)
        case .deleteManifest(let name, let reference):
            return try await manifests.delete(name, reference)
        case .getBlob(let name, let digest, let head):
            return try await blobs.get(name, digest, head: head, request: request)
        case .deleteBlob(let name, let digest):
            return try await blobs.delete(name, digest)
        case .startUpload(let name, let start):
            // No separate pull check on a mount source: whoever may push may read every repository
            // (reads are open, or need any htpasswd user).
            return try await upload.start(name, start, request: request)
        case .uploadStatus(let name, let id):
            return try await upload.status(name, id)
        case .uploadChunk(let name, let id):
            return try await upload.chunk(name, id, request: request)
        case .finishUpload(let name, let id, let digest):
            return try await upload.finish(name, id, digest: digest, request: request)
        case .cancelUpload(let name, let id):
            return try await upload.cancel(name, id)
        case .referrers(let name, let digest, let artifactType):
            return try await listings.referrers(name, digest, artifactType: artifactType)
        }
    }
}
