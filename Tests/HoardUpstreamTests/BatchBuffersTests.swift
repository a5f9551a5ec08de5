import NIOCore
import Testing
@testable import HoardUpstream

/// A fill's batch buffers come back only once nobody else holds them (a reader's slice, the
/// window, a write), and no more than `keep` are remembered.
@Suite struct BatchBuffersTests {
    /// Where a buffer's storage is (without copying it, as a mutable access to a shared one would).
    static func address(_ buffer: ByteBuffer) -> UInt {
        buffer.withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
    }

    @Test func aBufferIsReusedOnlyOnceNothingElseHoldsIt() {
        var buffers = BatchBuffers(capacity: 1024, keep: 4)
        var first = buffers.take()
        first.writeString("batch one")
        let storage = Self.address(first)
        buffers.handedOn(first)
        // A reader still holds a slice of it: a new buffer, and the slice keeps its bytes.
        var slice: ByteBuffer? = first.getSlice(at: first.readerIndex, length: 5)
        first = ByteBuffer()
        let second = buffers.take()
        #expect(Self.address(second) != storage)
        #expect(slice.map { String(buffer: $0) } == "batch")
        // Let go of: the same memory comes back, empty.
        slice = nil
        let reused = buffers.take()
        #expect(Self.address(reused) == storage)
        #expect(reused.readableBytes == 0)
        #expect(reused.capacity == 1024)
        withExtendedLifetime(second) {}
    }

    @Test func biggerRequestsAndForeignBuffersAreNotPooled() {
        var buffers = BatchBuffers(capacity: 1024, keep: 4)
        do {
            let big = buffers.take(minimum: 4096)
            #expect(big.capacity >= 4096)
            buffers.handedOn(big)
            var small = ByteBufferAllocator().buffer(capacity: 16)
            small.writeString("y")
            buffers.handedOn(small)
        }
        // Nothing else holds either now; still neither comes back: a pooled one would have its
        // own capacity, not the batch size.
        let fresh = buffers.take()
        #expect(fresh.capacity == 1024)
    }

    @Test func atMostKeepBuffersAreRemembered() {
        var buffers = BatchBuffers(capacity: 1024, keep: 2)
        // Three handed on while all are still held (by readers, say): three distinct buffers.
        var held: [ByteBuffer] = []
        for _ in 0..<3 {
            let buffer = buffers.take()
            held.append(buffer)
            buffers.handedOn(buffer)
        }
        let handed = held.map(Self.address)
        #expect(Set(handed).count == 3)
        // Let go of, all but the newest (kept alive so that the allocator cannot hand its memory
        // out again): it was never remembered; the two oldest come back in order, then fresh memory.
        let newest = held[2]
        held.removeAll()
        let a = buffers.take(), b = buffers.take(), c = buffers.take()
        #expect([Self.address(a), Self.address(b)] == Array(handed[..<2]))
        #expect(!handed.contains(Self.address(c)))
        withExtendedLifetime((newest, a, b)) {}
    }
}
