import NIOCore

/// The batch buffers of one fill, reused once nothing else holds them. A batch is held by its
/// write, by the fill's window (up to `Fill.windowLimit`) and by readers sending its slices;
/// once all have let go, its pages are still mapped, so the next batch copies into memory that
/// is already there instead of faulting in a fresh 256 KiB (allocations that size come from
/// `mmap`, see `AllocatorTuning`). Bounded: `keep` buffers at most, dropped with the fill.
struct BatchBuffers {
    /// Buffers handed on, oldest first (the first to be let go of).
    private var used: [ByteBuffer] = []
    let capacity: Int
    /// The window holds 16 batches; a few more cover the write in flight and slow readers.
    let keep: Int

    init(capacity: Int, keep: Int = 20) {
        self.capacity = capacity
        self.keep = keep
    }

    /// An empty buffer of at least `capacity` bytes (or `minimum`, when larger).
    mutating func take(minimum: Int = 0) -> ByteBuffer {
        if minimum <= capacity, let index = used.indices.first(where: { used[$0].modifyIfUniquelyOwned { $0.clear() } != nil }) {
            // Out of the list, so that this copy is the only one (a write must not copy it).
            return used.remove(at: index)
        }
        return ByteBufferAllocator().buffer(capacity: max(capacity, minimum))
    }

    /// Notes a buffer just handed on (it may be reused once everyone lets go of it); past
    /// `keep`, the oldest is forgotten (freed once its holders let go).
    mutating func handedOn(_ buffer: ByteBuffer) {
        guard buffer.capacity == capacity else { return }
        if used.count == keep { used.removeFirst() }
        used.append(buffer)
    }
}
