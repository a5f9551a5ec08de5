import HTTPTypes
import Hummingbird

/// conda's token prefix: `/t/<TOKEN>/<channel>/…` is `/<channel>/…` read with `<TOKEN>`. The
/// prefix is taken off before routing (so nothing after this, logs included, sees the token) and
/// the token travels in the context to the conda front's access check.
struct TokenPrefixResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == HoardRequestContext {
    typealias Context = HoardRequestContext
    let inner: Inner

    func respond(to request: Request, context: Context) async throws -> Response {
        guard let path = request.head.path, let (token, rest) = Self.split(path) else {
            return try await inner.respond(to: request, context: context)
        }
        var head = request.head
        head.path = rest
        var context = context
        context.channelToken = token
        return try await inner.respond(to: Request(head: head, body: request.body), context: context)
    }

    /// `("TOKEN", "/rest…")` for `/t/TOKEN/rest…` with a non-empty token and rest; nil otherwise.
    static func split(_ path: String) -> (token: String, rest: String)? {
        guard path.hasPrefix("/t/") else { return nil }
        let afterPrefix = path.dropFirst(3)
        guard let slash = afterPrefix.firstIndex(of: "/"), slash != afterPrefix.startIndex else { return nil }
        let rest = afterPrefix[slash...]
        guard rest.count > 1 else { return nil }
        return (String(afterPrefix[..<slash]), String(rest))
    }
}

/// Builds the router's responder behind `TokenPrefixResponder`.
struct TokenPrefixRouter<Inner: HTTPResponderBuilder>: HTTPResponderBuilder where Inner.Responder.Context == HoardRequestContext {
    let router: Inner

    func buildResponder() -> TokenPrefixResponder<Inner.Responder> {
        TokenPrefixResponder(inner: router.buildResponder())
    }
}
