import Hummingbird

extension Response {
    /// A plain-text response; errors say what went wrong in words a person can act on.
    static func text(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: message)))
    }

    static func methodNotAllowed(allow: String) -> Response {
        .text(.methodNotAllowed, "method not allowed; allowed: \(allow)\n", headers: [.allow: allow])
    }

    /// The same response without its body, for HEAD: status and headers (Content-Length
    /// included) stay exactly what GET would send.
    func withoutBody() -> Response {
        var headers = self.headers
        if headers[.contentLength] == nil, let length = body.contentLength {
            headers[.contentLength] = String(length)
        }
        return Response(status: status, headers: headers, body: ResponseBody())
    }
}
