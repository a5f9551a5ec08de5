import HoardStore
import HoardUpstream
import Hummingbird
import NIOCore

/// Streams a blob that is still being downloaded: bytes go to the client as they reach the temp
/// file, the last byte only once the blob is verified and committed. When verification fails the
/// body throws, so the client sees a broken transfer, never a complete one with bad bytes.
struct FillResponse {
    let fill: Fill
    let head: Fill.Head
    let store: Store
    let contentType: String
    let cacheControl: String

    func respond() -> Response {
        let headers = ResponsePlan.commonHeaders(
            contentType: contentType, cacheControl: cacheControl,
            validators: head.expectedDigest.map { Validators(digestHex: $0.hex, lastModified: nil) })
        let fill = self.fill
        let head = self.head
        let store = self.store
        let body = ResponseBody(contentLength: head.size.map { Int($0) }) { writer in
            var reader: FileReader?
            var offset: Int64 = 0
            while true {
                let (progress, version) = fill.progress()
                let readable: Int64
                var complete = false
                switch progress {
                case .failed(let error):
                    throw error
                case .committed(let record):
                    readable = record.size
                    complete = true
                case .verified(let size):
                    readable = size
                    complete = true
                case .running(let written):
                    readable = max(0, written - 1)
                }
                // After the first bytes (sent at once, for time to first byte), read in batches
                // of at least `batch`: each read is a hop to the thread pool, and the fill
                // advances 64 KiB at a time.
                if offset < readable && (complete || offset == 0 || readable - offset >= Self.batch) {
                    if reader == nil { reader = try await Self.open(head: head, fill: fill, store: store) }
                    try await FileBody.write(reader!, from: offset, to: readable, into: &writer)
                    offset = readable
                    continue
                }
                if complete { break }
                await fill.waitForChange(after: version)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    static let batch: Int64 = 1 << 20

    /// Opens the temp file; once it was renamed into place (or removed), the outcome says where.
    /// The rename happens before the fill reports the commit (the index row comes in between), so
    /// a missing temp file while the fill still says "running" means: wait for the outcome.
    private static func open(head: Fill.Head, fill: Fill, store: Store) async throws -> FileReader {
        do {
            return try FileReader(path: head.tempPath)
        } catch {
            let record = try await fill.result()
            return try store.open(record.digest).reader
        }
    }
}
