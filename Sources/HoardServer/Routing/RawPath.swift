/// The request target's path exactly as the client sent it, still percent-encoded.
///
/// Hummingbird's router matches segments with empty ones skipped (`//healthz` and `/healthz/`
/// resolve like `/healthz`), so each route confirms its match on the raw path before a front sees
/// the request; fronts parse the raw path themselves (`%2F` never makes a segment).
enum RawPath {
    /// The first segment: `fixture` of `/fixture/noarch/x`, `` of `//x` or `/`.
    static func firstSegment(_ path: String) -> Substring {
        (path.hasPrefix("/") ? path.dropFirst() : path[...]).prefix { $0 != "/" }
    }

    /// Whether `path` is `/<segment>` or lies under it (`/<segment>/…`), as sent.
    static func isUnder(_ segment: String, _ path: String) -> Bool {
        guard path.hasPrefix("/"), firstSegment(path) == segment else { return false }
        return true
    }
}
