import HTTPTypes
import HoardStore
import Hummingbird

extension HotTable {
    /// Publishes what the slow path has just answered to `request`, so the fast path may repeat
    /// it: only a success (200, 206, 304) to a GET or HEAD without credentials or query. The
    /// headers are the slow path's own (those of one answer decide every later one); Content-Length,
    /// Content-Range, Date and Server are set per answer.
    func publish(
        answered request: Request, with response: Response, contentType: String, body: HotEntry.Body,
        validators: Validators?, expires: Double? = nil, extraHeaders: HTTPFields = [:]
    ) {
        guard request.method == .get || request.method == .head,
            [.ok, .partialContent, .notModified].contains(response.status),
            request.headers[.authorization] == nil,
            let path = request.head.path, path.hasPrefix("/"), !path.contains("?")
        else { return }
        if let expires, expires <= FastDate.now() { return }
        if case .blob(_, let size) = body, size <= 0 { return }
        var headers = response.headers
        for name in [HTTPField.Name.contentLength, .contentRange, .date, .server] { headers[name] = nil }
        if headers[.contentType] == nil { headers[.contentType] = contentType }
        for field in extraHeaders { headers[field.name] = field.value }
        publish(path, HotEntry(body: body, headers: headers, validators: validators, expires: expires))
    }
}
