import HTTPTypes
import HoardHTTP

/// What the fast path answers for one request and entry, decided as the slow path decides
/// (RepresentationResponse, OCI blob GET): 304 on a matching validator, 206 on a satisfiable
/// range, else 200. Anything else (416) is left to the slow path, which words the error.
struct FastPlan: Equatable {
    let status: HTTPResponse.Status
    /// Without Date and Server.
    let headers: HTTPFields
    /// The body's bytes `start..<end` of the entry's body (empty for 304).
    let start: Int64
    let end: Int64

    init?(entry: HotEntry, request: HTTPFields) {
        var headers = entry.headers
        let size = entry.body.size
        if let validators = entry.validators, validators.notModified(request) {
            headers[.contentType] = nil
            headers[.contentLength] = "0"
            self.init(status: .notModified, headers: headers, start: 0, end: 0)
            return
        }
        var range = ByteRange(header: request[.range], size: size)
        if range != .whole, let validators = entry.validators, !validators.ifRangeHolds(request) { range = .whole }
        switch range {
        case .whole:
            headers[.contentLength] = String(size)
            self.init(status: .ok, headers: headers, start: 0, end: size)
        case .partial(let start, let end):
            headers[.contentRange] = ContentRange.bytes(start: start, end: end, size: size)
            headers[.contentLength] = String(end - start + 1)
            self.init(status: .partialContent, headers: headers, start: start, end: end + 1)
        case .unsatisfiable:
            return nil
        }
    }

    private init(status: HTTPResponse.Status, headers: HTTPFields, start: Int64, end: Int64) {
        self.status = status
        self.headers = headers
        self.start = start
        self.end = end
    }
}
