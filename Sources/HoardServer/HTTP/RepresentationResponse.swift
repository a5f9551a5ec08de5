import HoardHTTP
import HoardStore
import Hummingbird
import NIOCore

/// Answers GET and HEAD for one immutable representation (a blob on disk or bytes in memory):
/// 304 on a matching If-None-Match / If-Modified-Since, Range and If-Range (206, 416), and the
/// validators repeated on every answer.
struct RepresentationResponse {
    enum Source {
        case blob(any BlobReader)
        case memory(ByteBuffer)

        var size: Int64 {
            switch self {
            case .blob(let reader): return reader.size
            case .memory(let buffer): return Int64(buffer.readableBytes)
            }
        }
    }

    let source: Source
    let validators: Validators
    let contentType: String
    let cacheControl: String
    var extraHeaders: HTTPFields = [:]

    func respond(to request: Request) -> Response {
        var headers = extraHeaders
        headers[.contentType] = contentType
        headers[.cacheControl] = cacheControl
        headers[.acceptRanges] = "bytes"
        validators.apply(to: &headers)
        if validators.notModified(request.headers) {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        let size = source.size
        var range = ByteRange(header: request.headers[.range], size: size)
        if range != .whole && !validators.ifRangeHolds(request.headers) { range = .whole }
        switch range {
        case .whole:
            return Response(status: .ok, headers: headers, body: body(from: 0, to: size))
        case .partial(let start, let end):
            headers[.contentRange] = ContentRange.bytes(start: start, end: end, size: size)
            return Response(status: .partialContent, headers: headers, body: body(from: start, to: end + 1))
        case .unsatisfiable:
            headers[.contentRange] = ContentRange.unsatisfied(size: size)
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .rangeNotSatisfiable, headers: headers,
                            body: .init(byteBuffer: ByteBuffer(string: "range not satisfiable: the representation has \(size) bytes\n")))
        }
    }

    private func body(from start: Int64, to end: Int64) -> ResponseBody {
        switch source {
        case .memory(let buffer):
            return ResponseBody(byteBuffer: buffer.getSlice(at: buffer.readerIndex + Int(start), length: Int(end - start)) ?? ByteBuffer())
        case .blob(let reader):
            return ResponseBody(contentLength: Int(end - start)) { writer in
                try await FileBody.write(reader, from: start, to: end, into: &writer)
                try await writer.finish(nil)
            }
        }
    }
}
