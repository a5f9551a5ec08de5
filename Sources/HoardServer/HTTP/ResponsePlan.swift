import HTTPTypes
import HoardHTTP
import HoardOCI

/// The one place that decides what a GET or HEAD of an immutable representation is answered with:
/// the status (200, 206, 304, 416), every header, and which bytes of the representation (or which
/// message) make the body. Pure and synchronous, with nothing of Hummingbird in it, so the
/// Hummingbird routes (`RepresentationResponse`) and the NIO fast path render the same decision
/// and clients get the same answer whichever path served them.
///
/// The order is RFC 9110's (§13.2.2): If-None-Match, else If-Modified-Since (304); then Range,
/// honoured only while If-Range holds (206 or 416). A HEAD gets exactly the status and headers a
/// GET would (Range included, as nginx and Go's `ServeContent` do), with no body.
struct ResponsePlan: Sendable, Equatable {
    /// What is served: everything the decision needs to know of one representation.
    struct Representation: Sendable {
        var size: Int64
        var validators: Validators
        var contentType: String
        var cacheControl: String
        /// Sent on every answer (e.g. OCI's `Docker-Content-Digest`).
        var extraHeaders: HTTPFields = [:]
        /// How a 416 says why.
        var errorFormat: ErrorFormat = .text
    }

    /// The body of a 416: plain text for the conda front, the spec's JSON error for OCI.
    enum ErrorFormat: Sendable, Equatable {
        case text
        case oci
    }

    enum Body: Sendable, Equatable {
        /// No body: a 304, or any HEAD.
        case none
        /// These bytes of the representation (half-open; empty for an empty representation).
        case representation(Range<Int64>)
        /// A short message of the plan's own (the 416 explanation).
        case message([UInt8])
    }

    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: Body

    init(method: HTTPRequest.Method, headers request: HTTPFields, representation: Representation) {
        let head = method == .head
        var headers = Self.commonHeaders(
            contentType: representation.contentType, cacheControl: representation.cacheControl,
            validators: representation.validators, extraHeaders: representation.extraHeaders)

        if representation.validators.notModified(request) {
            // 304 repeats the validators and Cache-Control (§15.4.5); it has no content to type.
            headers[.contentType] = nil
            self.init(status: .notModified, headers: headers, body: .none)
            return
        }

        let size = max(representation.size, 0)
        var range = ByteRange(header: request[.range], size: size)
        if range != .whole && !representation.validators.ifRangeHolds(request) { range = .whole }
        let status: HTTPResponse.Status
        let bytes: Range<Int64>
        switch range {
        case .whole:
            status = .ok
            bytes = 0..<size
        case .partial(let start, let end):
            status = .partialContent
            bytes = start..<(end + 1)  // end < size <= Int64.max: no overflow
            headers[.contentRange] = ContentRange.bytes(start: start, end: end, size: size)
        case .unsatisfiable:
            headers[.contentRange] = ContentRange.unsatisfied(size: size)
            // A 416 must not be stored under the blob's URL as if it were the blob's answer.
            headers[.cacheControl] = "no-store"
            let message = Self.unsatisfiedMessage(request[.range] ?? "", size: size, format: representation.errorFormat, into: &headers)
            headers[.contentLength] = String(message.count)
            self.init(status: .rangeNotSatisfiable, headers: headers, body: head ? .none : .message(message))
            return
        }
        headers[.contentLength] = String(bytes.count)
        self.init(status: status, headers: headers, body: head ? .none : .representation(bytes))
    }

    /// The headers of every answer about a representation, before the status adds its own; also
    /// those of a blob streamed whole while it is still being pulled through (`FillResponse`),
    /// whose validators are known only when its digest is.
    static func commonHeaders(contentType: String, cacheControl: String, validators: Validators?, extraHeaders: HTTPFields = [:]) -> HTTPFields {
        var headers = extraHeaders
        headers[.contentType] = contentType
        headers[.cacheControl] = cacheControl
        headers[.acceptRanges] = "bytes"
        validators?.apply(to: &headers)
        return headers
    }

    private init(status: HTTPResponse.Status, headers: HTTPFields, body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    private static func unsatisfiedMessage(_ range: String, size: Int64, format: ErrorFormat, into headers: inout HTTPFields) -> [UInt8] {
        switch format {
        case .text:
            headers[.contentType] = "text/plain; charset=utf-8"
            return Array("range not satisfiable: the representation has \(size) bytes\n".utf8)
        case .oci:
            headers[.contentType] = OCIError.contentType
            headers[.dockerDistributionAPIVersion] = "registry/2.0"
            return OCIError(.blobUnknown, "range \(range) is outside the blob of \(size) bytes", status: 416).jsonBody
        }
    }
}
