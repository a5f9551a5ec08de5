import HoardStore
import NIOCore

/// One reader's way through a fill, buffer by buffer: the bytes the fill just wrote while the
/// reader keeps up (no read, no copy), else reads of the store in `step`-sized pieces until it
/// has caught up again; it waits only when it has sent everything readable. The last byte comes
/// only once the blob is verified, and a failed fill throws, so a response built from these
/// buffers is complete only when the blob is good.
///
/// Used by one task (one response).
public struct FillReader {
    public let fill: Fill
    private let store: any BlobReader
    private var offset: Int64
    private var pending: [ByteBuffer] = []
    private var pendingIndex = 0

    /// Reads from the store are this large: large enough to cost few thread hops, small enough
    /// that dozens of slow readers hold little memory.
    static let step = 256 << 10
    /// The most window bytes one reader takes at a time (it holds them until they are sent).
    static let maximumSlices = 512 << 10

    public init(fill: Fill, head: Fill.Head, from offset: Int64 = 0) {
        self.fill = fill
        self.store = head.reader
        self.offset = offset
    }

    /// The next bytes in order, or nil once every byte of the blob was returned.
    public mutating func next() async throws -> ByteBuffer? {
        while true {
            if pendingIndex < pending.count {
                defer { pendingIndex += 1 }
                return pending[pendingIndex]
            }
            let view = fill.view(from: offset, maximum: Self.maximumSlices)
            if let failure = view.failure { throw failure }
            if !view.slices.isEmpty {
                pending = view.slices
                pendingIndex = 0
                for slice in pending { offset += Int64(slice.readableBytes) }
                continue
            }
            if offset < view.readable {
                // Behind the window (or it holds nothing): read the store up to where it starts.
                let until = view.windowStart > offset ? min(view.windowStart, view.readable) : view.readable
                let count = Int(min(Int64(Self.step), until - offset))
                let chunk = try await store.read(at: offset, count: count)
                guard chunk.readableBytes > 0 else { throw StoreError.sizeMismatch(expected: view.readable, actual: offset) }
                offset += Int64(chunk.readableBytes)
                return chunk
            }
            if view.complete { return nil }
            await fill.waitForChange(after: view.version)
        }
    }
}
