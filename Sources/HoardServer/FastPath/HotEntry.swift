import HoardStore
import NIOCore

/// One representation the slow path served and the fast path may serve again: its bytes, what
/// `ResponsePlan` needs to decide any GET or HEAD of it, and until when it holds.
struct HotEntry: Sendable {
    enum Body: Sendable {
        /// Bytes held in memory (a document snapshot's own buffer, shared, not copied).
        case memory(ByteBuffer)
        /// A committed blob as the store opened it for the slow path; each hit asks it for a file
        /// handle (sendfile), and finds out then whether the store has removed it.
        case blob(any BlobReader)

        var digest: BlobDigest? {
            if case .blob(let reader) = self { return reader.digest }
            return nil
        }
    }

    let body: Body
    let representation: ResponsePlan.Representation
    /// Unix seconds after which the slow path must decide again (a document's TTL); nil: never.
    let expires: Double?
    /// On a shared store: the slow path's own check that the name still points at this blob
    /// (another node may have deleted it), asked again before each answer; nil: none needed.
    var recheck: (@Sendable () async -> Bool)? = nil

    /// Memory this entry alone may keep alive (the worst case: its snapshot was replaced).
    var heldBytes: Int { if case .memory(let buffer) = body { buffer.readableBytes } else { 0 } }
    /// Whether it holds a reader (one descriptor for a file backend).
    var holdsReader: Bool { body.digest != nil }
}
