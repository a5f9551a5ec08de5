import Hummingbird

/// HEAD answers what GET would, without the body: status and headers, Content-Length included,
/// stay exactly those of the GET (RFC 9110 §9.3.2). It is the outermost middleware, so errors
/// (mapped to responses inside it) lose their bodies too. Hummingbird's own
/// `autoGenerateHeadEndpoints` does not fit: it covers only routes without a HEAD handler (every
/// hoard route takes HEAD, which fronts treat specially, e.g. a package HEAD waits for its fill),
/// and an error thrown by the GET handler would reach the client with a body.
struct HeadMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        guard request.method == .head else { return response }
        return response.withoutBody()
    }
}

extension Response {
    /// The same response without its body, for HEAD.
    func withoutBody() -> Response {
        var headers = self.headers
        if headers[.contentLength] == nil, let length = body.contentLength {
            headers[.contentLength] = String(length)
        }
        return Response(status: status, headers: headers, body: ResponseBody())
    }
}
