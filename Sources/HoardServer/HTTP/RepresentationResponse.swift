import HoardHTTP
import HoardStore
import Hummingbird
import NIOCore

/// Answers GET and HEAD for one immutable representation (a blob on disk or bytes in memory):
/// `ResponsePlan` decides (304, Range and If-Range, 416); this renders its decision for Hummingbird.
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
    var errorFormat: ResponsePlan.ErrorFormat = .text

    var representation: ResponsePlan.Representation {
        ResponsePlan.Representation(
            size: source.size, validators: validators, contentType: contentType, cacheControl: cacheControl,
            extraHeaders: extraHeaders, errorFormat: errorFormat)
    }

    func respond(to request: Request) -> Response {
        respond(method: request.method, headers: request.headers)
    }

    func respond(method: HTTPRequest.Method, headers request: HTTPFields) -> Response {
        let plan = ResponsePlan(method: method, headers: request, representation: representation)
        switch plan.body {
        case .none:
            // The plan's Content-Length (a HEAD's is the GET's) stays: Hummingbird sets one only when absent.
            return Response(status: plan.status, headers: plan.headers, body: ResponseBody())
        case .message(let bytes):
            return Response(status: plan.status, headers: plan.headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        case .representation(let bytes):
            return Response(status: plan.status, headers: plan.headers, body: body(bytes))
        }
    }

    private func body(_ bytes: Range<Int64>) -> ResponseBody {
        switch source {
        case .memory(let buffer):
            return ResponseBody(byteBuffer: buffer.getSlice(at: buffer.readerIndex + Int(bytes.lowerBound), length: Int(bytes.count)) ?? ByteBuffer())
        case .blob(let reader):
            return ResponseBody(contentLength: Int(bytes.count)) { writer in
                try await FileBody.write(reader, from: bytes.lowerBound, to: bytes.upperBound, into: &writer)
                try await writer.finish(nil)
            }
        }
    }
}
