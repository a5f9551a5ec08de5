import HTTPTypes
import HoardStore
import Hummingbird

extension HotTable {
    /// Publishes the representation the slow path has just served to `request`, so the fast
    /// path may serve it too: only after a success (200, 206, 304) to a GET or HEAD without
    /// credentials or query. `extraHeaders` are those added on the way out (OCI's API version).
    /// `recheck` repeats the route's check that the name still points at the blob: a shared
    /// store's fast path asks it before each answer (a blob without one is not published there).
    func publish(
        answered request: Request, with response: Response, answer: RepresentationResponse, expires: Double? = nil,
        extraHeaders: HTTPFields = [:], recheck: (@Sendable () async -> Bool)? = nil
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
        var check: (@Sendable () async -> Bool)? = nil
        switch answer.source {
        case .memory(let buffer): body = .memory(buffer)
        case .blob(let reader):
            // A backend without local files (no handle for sendfile) is served by the slow path
            // alone; on a shared store, only with the route's check (see `rechecksBlobs`).
            guard FastBlobSource.isCurrent(reader) else { return }
            if rechecksBlobs {
                guard let recheck else { return }
                check = recheck
            }
            body = .blob(reader)
        }
        publish(path, HotEntry(body: body, representation: representation, expires: expires, recheck: check))
    }
}
