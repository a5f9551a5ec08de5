import HTTPTypes
import HoardStore
import NIOCore

/// One answer the slow path gave and the fast path may repeat: what the body is, the headers a
/// 200 carries, and until when it holds.
struct HotEntry: Sendable {
    enum Body: Sendable {
        /// Bytes held in memory (a document snapshot's own buffer, shared, not copied).
        case memory(ByteBuffer)
        /// A committed blob, opened through the store on every hit (so an evicted blob is noticed
        /// and its access time recorded).
        case blob(BlobDigest, size: Int64)

        var size: Int64 {
            switch self {
            case .memory(let buffer): Int64(buffer.readableBytes)
            case .blob(_, let size): size
            }
        }

        var digest: BlobDigest? {
            if case .blob(let digest, _) = self { return digest }
            return nil
        }
    }

    let body: Body
    /// The headers of a 200 without Content-Length, Date and Server (added per answer).
    let headers: HTTPFields
    /// Validators for 304 and If-Range; nil where the slow path does no conditional GET.
    let validators: Validators?
    /// Unix seconds after which the slow path must decide again (a document's TTL); nil: never.
    let expires: Double?

    /// Memory this entry alone may keep alive (the worst case: its snapshot was replaced).
    var heldBytes: Int { if case .memory(let buffer) = body { buffer.readableBytes } else { 0 } }
}
