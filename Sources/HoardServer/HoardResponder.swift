import HoardStore
import Hummingbird
import Logging

/// Routes every request: the raw path is parsed into a typed value by each front before
/// anything touches the disk. Every GET route answers HEAD alike.
struct HoardResponder: HTTPResponder {
    typealias Context = HoardRequestContext

    let store: Store
    let conda: CondaFront
    let logger: Logger
    let oci: OCIFront

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        if path == "/v2" || path.hasPrefix("/v2/") {
            let response = await oci.respond(to: request, client: context.clientAddress)
            return request.method == .head ? response.withoutBody() : response
        }
        if path == "/token" {
            let response = await oci.respondToken(to: request, client: context.clientAddress)
            return request.method == .head ? response.withoutBody() : response
        }
        let response: Response
        switch (request.method, path) {
        case (.get, "/healthz"), (.head, "/healthz"):
            response = try await HealthRoute(store: store).respond()
        case (_, "/healthz"):
            response = .methodNotAllowed(allow: "GET, HEAD")
        case (.get, _) where conda.owns(path), (.head, _) where conda.owns(path):
            response = await conda.respond(to: request, path: path)
        case (_, _) where conda.owns(path):
            response = .methodNotAllowed(allow: "GET, HEAD")
        default:
            response = conda.unknownChannel(String(path.dropFirst().prefix { $0 != "/" }))
        }
        return request.method == .head ? response.withoutBody() : response
    }
}
