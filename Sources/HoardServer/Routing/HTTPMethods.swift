import Hummingbird

/// The methods hoard routes: RFC 9110's and PATCH. Every route takes all of them and its front
/// answers 405 with `Allow` for those it does not allow; any other method (WebDAV's, which the
/// HTTP parser accepts) is implemented nowhere, so it is 501, as RFC 9110 §9.1 says.
enum HTTPMethods {
    static let routed: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options, .trace, .connect]

    static func isRouted(_ method: HTTPRequest.Method) -> Bool {
        switch method {
        case .get, .head, .post, .put, .delete, .patch, .options, .trace, .connect: true
        default: false
        }
    }
}

/// 501 for a method no route takes. Runs before routing decides anything else: the router would
/// otherwise answer such a request as a path it does not know.
struct UnroutedMethodMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard HTTPMethods.isRouted(request.method) else { throw MethodNotImplemented(method: request.method.rawValue) }
        return try await next(request, context)
    }
}
