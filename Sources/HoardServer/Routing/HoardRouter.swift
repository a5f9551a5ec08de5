import HoardStore
import Hummingbird
import Logging

/// The route table: Hummingbird's router decides which front a request is for, from the path's
/// first segment; each front then parses the raw path into its typed route (OCI repository names
/// hold slashes, so `/v2/<name>/blobs/<digest>` is not one router pattern: OCIRoute parses all
/// of `/v2/…`). Every route takes every routed method, so a front answers 405 with its `Allow`.
struct HoardRouter {
    let store: Store
    let conda: CondaFront
    let oci: OCIFront
    let web: WebFront
    let logger: Logger
    /// Metrics and the access log of every request; `/metrics` renders the metrics.
    let requestLog: RequestLog
    let metrics: MetricsRoute

    typealias Context = HoardRequestContext
    typealias Handler = @Sendable (Request, Context) async throws -> Response

    func build() -> Router<Context> {
        let router = Router(context: Context.self)
        // Outermost of all: sees every answer as it leaves, errors included.
        router.add(middleware: AccessLogMiddleware(log: requestLog))
        // Outermost first: HEAD drops the body of whatever is answered inside, errors included;
        // errors no front answered (an unknown channel, an unrouted method) are answered in text.
        router.add(middleware: HeadMiddleware())
        router.add(middleware: ErrorMiddleware(front: .plain, logger: logger))
        router.add(middleware: UnroutedMethodMiddleware())
        let served = Array(conda.channels.keys)

        let health = HealthRoute(store: store)
        let healthGroup = router.group().add(middleware: RawPathGuard(served: served) { $0 == "/healthz" })
        route(healthGroup, ["/healthz", "/healthz/**"]) { request, _ in
            guard request.method == .get || request.method == .head else { throw MethodNotAllowed(allow: "GET, HEAD") }
            return try await health.respond()
        }

        let metricsGroup = router.group().add(middleware: RawPathGuard(served: served) { $0 == "/metrics" })
        route(metricsGroup, ["/metrics"]) { [metrics] request, _ in
            guard request.method == .get || request.method == .head else { throw MethodNotAllowed(allow: "GET, HEAD") }
            return await metrics.respond()
        }

        let tokenGroup = router.group().add(middleware: RawPathGuard(served: served) { $0 == "/token" })
        route(tokenGroup, ["/token", "/token/**"]) { [oci] request, context in
            try await oci.respondToken(to: request, client: context.clientAddress)
        }

        let ociGroup = router.group()
            .add(middleware: RawPathGuard(served: served) { RawPath.isUnder("v2", $0) })
            .add(middleware: ErrorMiddleware(front: .oci, logger: logger))
        route(ociGroup, ["/v2", "/v2/**"]) { [oci] request, context in
            try await oci.respond(to: request, client: context.clientAddress)
        }

        // The web page: exactly `/` (its views are query parameters, so it takes no path a
        // channel could have); `//` and the like stay the unknown-channel answer.
        let webGroup = router.group().add(middleware: RawPathGuard(served: served) { $0 == "/" })
        route(webGroup, ["/"]) { [web] request, context in
            try await web.respond(to: request, pathToken: context.channelToken, client: context.clientAddress)
        }

        // Everything else: a configured channel, or the unknown-channel answer (CondaFront checks
        // the raw first segment).
        let condaGroup = router.group().add(middleware: ErrorMiddleware(front: .conda, logger: logger))
        route(condaGroup, ["/{channel}", "/{channel}/**"]) { [conda] request, context in
            try await conda.respond(to: request, pathToken: context.channelToken, client: context.clientAddress)
        }
        return router
    }

    /// `handler` for every routed method at each of `paths`.
    private func route(_ group: RouterGroup<Context>, _ paths: [RouterPath], _ handler: @escaping Handler) {
        for path in paths {
            for method in HTTPMethods.routed { group.on(path, method: method, use: handler) }
        }
    }
}

/// Confirms a route's match on the raw path: the trie skips empty segments, so `//v2/` and
/// `/healthz/` reach the routes of `/v2/` and `/healthz`, but they are neither; like any path
/// whose first segment is no front's, they get the unknown-channel answer.
struct RawPathGuard<Context: RequestContext>: RouterMiddleware {
    let served: [String]
    let owns: @Sendable (String) -> Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard owns(path) else { throw UnknownChannel(name: RawPath.firstSegment(path), served: served) }
        return try await next(request, context)
    }
}
