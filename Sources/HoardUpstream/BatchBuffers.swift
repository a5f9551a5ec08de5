import NIOCore

/// The batch buffers of one fill, reused once nothing else holds them. A batch is held by its
/// write, by the fill's window (up to `Fill.windowLimit`) and by readers sending its slices;
/// once all have let go, its pages are still mapped, so the next batch copies into memory that
/// is already there instead of faulting in a fresh 256 KiB (allocations that size come from
/// `mmap`, see `AllocatorTuning`). Bounded: `keep` buffers at most, dropped with the fill.
struct BatchBuffers {
    private var used: [ByteBuffer] = []
    private var next = 0
    let capacity: Int
    /// The window holds 16 batches; a few more cover the write in flight and slow readers.
    let keep: Int

    init(capacity: Int, keep: Int = 20) {
        self.capacity = capacity
        self.keep = keep
    }

    /// An empty buffer of at least `capacity` bytes (or `minimum`, when larger).
    mutating func take(minimum: Int = 0) -> ByteBuffer {
        if minimum <= capacity {
            for index in used.indices {
                let reused = used[index].modifyIfUniquelyOwned { buffer -> Bool in
                    buffer.clear()
                    return true
                }
                // Out of the list, so that this copy is the only one (a write must not copy it).
                if reused == true {
                    if next > index { next -= 1 }
                    if next >= used.count - 1 { next = 0 }
                    return used.remove(at: index)
                }
            }
        }
        return ByteBufferAllocator().buffer(capacity: max(capacity, minimum))
    }

    /// Notes a buffer just handed on (it may be reused once everyone lets go of it).
    mutating func handedOn(_ buffer: ByteBuffer) {
        guard buffer.capacity == capacity else { return }
        if used.count < keep {
            used.append(buffer)
        } else {
            used[next] = buffer
            next = (next + 1) % keep
        }
    }
}
