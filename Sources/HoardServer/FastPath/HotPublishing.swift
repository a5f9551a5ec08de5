import HTTPTypes
import HoardStore
import Hummingbird

extension HotTable {
    /// Publishes the representation the slow path has just served to `request`, so the fast
    /// path may serve it too: only after a success (200, 206, 304) to a GET or HEAD without
    /// credentials or query. `extraHeaders` are those added on the way out (OCI's API version).
    func publish(
        answered request: Request, with response: Response, answer: RepresentationResponse, expires: Double? = nil,
        extraHeaders: HTTPFields = [:]
    ) {
        guard request.method == .get || request.method == .head,
            [.ok, .partialContent, .notModified].contains(response.status),
            request.headers[.authorization] == nil,
            let path = request.head.path, path.hasPrefix("/"), !path.contains("?"),
            answer.source.size > 0
        else { return }
        if let expires, expires <= FastDate.now() { return }
        var representation = answer.representation
        for field in extraHeaders { representation.extraHeaders[field.name] = field.value }
        let body: HotEntry.Body
        switch answer.source {
        case .memory(let buffer): body = .memory(buffer)
        case .blob(let reader):
            // A backend without local files (no handle for sendfile) is served by the slow path
            // alone, and so is a shared store (see `publishesBlobs`).
            guard publishesBlobs, FastBlobSource.isCurrent(reader) else { return }
            body = .blob(reader)
        }
        publish(path, HotEntry(body: body, representation: representation, expires: expires))
    }
}
