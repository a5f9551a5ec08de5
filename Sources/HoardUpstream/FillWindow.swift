import NIOCore
import Synchronization

/// The most recent bytes of a fill, kept in memory for readers that have caught up: they get the
/// buffers the fill just wrote instead of reading them back from the store.
///
/// Bounded twice: a fill keeps at most `limit` bytes (older buffers are dropped first), and all
/// fills of a `Fetcher` together at most what their `FillMemory` allows. A reader that falls
/// behind what the window holds reads from the store instead, so a slow reader never makes the
/// fill keep more. Used under the fill's lock.
struct FillWindow {
    private var chunks: [(offset: Int64, bytes: ByteBuffer)] = []
    /// The offset of the first byte held (== `end` when nothing is held).
    private(set) var start: Int64 = 0
    /// The offset past the last byte written.
    private(set) var end: Int64 = 0
    private var held = 0
    let limit: Int
    let memory: FillMemory

    init(limit: Int, memory: FillMemory) {
        self.limit = limit
        self.memory = memory
    }

    /// Appends what was just written, dropping the oldest buffers past the limits.
    mutating func append(_ bytes: ByteBuffer) {
        let count = bytes.readableBytes
        defer { end += Int64(count) }
        guard count > 0 else { return }
        while !chunks.isEmpty && held + count > limit { dropFirst() }
        guard count <= limit, memory.take(count) || (releaseAll() && memory.take(count)) else {
            // Nothing kept: readers read these bytes from the store.
            releaseAll()
            start = end + Int64(count)
            return
        }
        if chunks.isEmpty { start = end }
        chunks.append((end, bytes))
        held += count
    }

    /// The held bytes in `[offset, bound)`, at most about `maximum` of them (whole buffers, the
    /// last one cut at `bound`); empty when `offset` is outside what is held.
    func slices(from offset: Int64, to bound: Int64, maximum: Int) -> [ByteBuffer] {
        guard offset >= start, offset < min(bound, end) else { return [] }
        var result: [ByteBuffer] = []
        var position = offset
        var taken = 0
        for (chunkOffset, bytes) in chunks where chunkOffset + Int64(bytes.readableBytes) > position {
            guard position < bound, taken < maximum else { break }
            let from = Int(position - chunkOffset)
            let length = Int(min(chunkOffset + Int64(bytes.readableBytes), bound) - position)
            guard let slice = bytes.getSlice(at: bytes.readerIndex + from, length: length) else { break }
            result.append(slice)
            position += Int64(length)
            taken += length
        }
        return result
    }

    /// Gives every held byte back (the fill ended, or memory is short).
    @discardableResult
    mutating func releaseAll() -> Bool {
        while !chunks.isEmpty { dropFirst() }
        start = end
        return true
    }

    private mutating func dropFirst() {
        let first = chunks.removeFirst()
        let count = first.bytes.readableBytes
        held -= count
        memory.give(count)
        start = chunks.first?.offset ?? end
    }
}

/// What all fills of one `Fetcher` may keep in memory together, so that many cold downloads at
/// once still cost a bounded amount (the rest is read back from the store).
public final class FillMemory: Sendable {
    public let limit: Int
    private let used = Atomic<Int>(0)

    public init(limit: Int) { self.limit = limit }

    /// Reserves `count` bytes; false when that would pass the limit.
    func take(_ count: Int) -> Bool {
        var current = used.load(ordering: .relaxed)
        while true {
            guard current + count <= limit else { return false }
            let (exchanged, original) = used.compareExchange(expected: current, desired: current + count, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    func give(_ count: Int) { used.subtract(count, ordering: .relaxed) }

    /// Bytes held by windows now.
    public var inUse: Int { used.load(ordering: .relaxed) }
}
