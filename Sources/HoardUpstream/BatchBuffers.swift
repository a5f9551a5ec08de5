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
    /// The window holds 16 batches; the rest cover the batch being filled, the write in flight and
    /// what readers are still sending (a 100 MiB pull-through measured: 22 fresh buffers of 459
    /// with 24, 53-115 with 20 and the oldest forgotten first).
    let keep: Int

    init(capacity: Int, keep: Int = 24) {
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

    /// Notes a buffer just handed on (it may be reused once everyone lets go of it). Past `keep`,
    /// this newest one is not remembered (it is freed once its holders let go): the older ones
    /// are the next to be let go of, so forgetting one of them would forget the next reuse.
    mutating func handedOn(_ buffer: ByteBuffer) {
        guard buffer.capacity == capacity, used.count < keep else { return }
        used.append(buffer)
    }
}
