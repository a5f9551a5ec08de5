import HoardStore
import HoardUpstream
import Hummingbird
import NIOCore

/// Streams a blob that is still being downloaded: bytes go to the client as the fill writes them
/// (`FillReader`: the fill's own buffers while the client keeps up, reads of the store when it
/// falls behind), the last byte only once the blob is verified. When verification fails the
/// body throws, so the client sees a broken transfer, never a complete one with bad bytes.
struct FillResponse {
    let fill: Fill
    let head: Fill.Head
    let store: Store
    let contentType: String
    let cacheControl: String

    func respond() -> Response {
        var headers: HTTPFields = [.contentType: contentType, .cacheControl: cacheControl, .acceptRanges: "bytes"]
        if let digest = head.expectedDigest { headers[.eTag] = "\"\(digest.hex)\"" }
        let fill = self.fill
        let head = self.head
        let body = ResponseBody(contentLength: head.size.flatMap { Int(exactly: $0) }) { writer in
            var reader = FillReader(fill: fill, head: head)
            while let buffer = try await reader.next() {
                try await writer.write(buffer)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}
