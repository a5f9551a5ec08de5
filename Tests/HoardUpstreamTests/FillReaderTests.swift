import Foundation
import HoardStore
import NIOCore
import Testing
@testable import HoardUpstream

/// The cold path's tee: readers that keep up get the fill's own buffers, readers that fall behind
/// read the store, memory stays bounded whatever the readers do, and no reader gets the last
/// byte before the blob is verified.
@Suite struct FillReaderTests {
    /// A fill driven by hand, writing through a real store writer as `Fetcher` does.
    struct Harness {
        let root = NSTemporaryDirectory() + "hoard-fill-" + UUID().uuidString
        let store: Store
        let memory: FillMemory
        let fill: Fill
        let writer: any BlobWriter
        let head: Fill.Head
        let bytes: [UInt8]

        init(size: Int, memory: FillMemory = FillMemory(limit: 32 << 20)) async throws {
            store = try await Store.open(root: root)
            bytes = Self.randomBytes(size)
            self.memory = memory
            fill = Fill(key: "test", memory: memory)
            writer = try await store.makeWriter(expectedDigest: BlobDigest.of(bytes), expectedSize: Int64(size))
            head = Fill.Head(size: Int64(size), reader: try writer.makeTailReader(), expectedDigest: BlobDigest.of(bytes))
            fill.started(head)
        }

        func write(_ range: Range<Int>) async throws {
            let buffer = ByteBuffer(bytes: bytes[range])
            try await writer.write(buffer)
            fill.wrote(buffer)
        }

        func finish() async throws {
            try writer.verify()
            fill.verified(size: writer.bytesWritten)
            fill.committed(try await store.commit(writer))
        }

        static func randomBytes(_ count: Int) -> [UInt8] {
            var generator = SystemRandomNumberGenerator()
            var words = [UInt64](repeating: 0, count: (count + 7) / 8)
            for index in words.indices { words[index] = generator.next() }
            return words.withUnsafeBytes { Array($0.prefix(count)) }
        }

        func cleanUp() { try? FileManager.default.removeItem(atPath: root) }
    }

    static func drain(_ reader: inout FillReader) async throws -> [UInt8] {
        var out: [UInt8] = []
        while let buffer = try await reader.next() { out += Array(buffer: buffer) }
        return out
    }

    @Test func aReaderThatKeepsUpGetsEveryByteAndTheLastOnlyAfterVerification() async throws {
        let h = try await Harness(size: 3 << 20)
        defer { h.cleanUp() }
        var reader = FillReader(fill: h.fill, head: h.head)
        var received: [UInt8] = []
        for start in stride(from: 0, to: h.bytes.count, by: 64 << 10) {
            try await h.write(start..<min(start + (64 << 10), h.bytes.count))
            // Everything written is readable at once, but the last byte of what was written.
            while received.count < start + (64 << 10) - 1, let buffer = try await reader.next() {
                received += Array(buffer: buffer)
            }
        }
        #expect(received.count == h.bytes.count - 1)
        #expect(h.fill.view(from: Int64(received.count), maximum: 1 << 20).readable == Int64(h.bytes.count - 1))
        try await h.finish()
        while let buffer = try await reader.next() { received += Array(buffer: buffer) }
        #expect(received == h.bytes)
    }

    @Test func aReaderThatFellBehindReadsTheStoreAndTheWindowStaysBounded() async throws {
        let h = try await Harness(size: 20 << 20)
        defer { h.cleanUp() }
        // Nobody reads while 20 MiB arrive: the fill keeps at most its window.
        for start in stride(from: 0, to: h.bytes.count, by: 256 << 10) {
            try await h.write(start..<min(start + (256 << 10), h.bytes.count))
            #expect(h.memory.inUse <= Fill.windowLimit)
        }
        let view = h.fill.view(from: 0, maximum: 1 << 20)
        #expect(view.slices.isEmpty)
        #expect(view.windowStart >= Int64(h.bytes.count - Fill.windowLimit))
        var late = FillReader(fill: h.fill, head: h.head)
        try await h.finish()
        // Once committed the window is given back; the late reader still gets every byte.
        #expect(h.memory.inUse == 0)
        #expect(try await Self.drain(&late) == h.bytes)
    }

    @Test func fillsShareOneMemoryBudget() async throws {
        let memory = FillMemory(limit: 1 << 20)
        let a = try await Harness(size: 2 << 20, memory: memory)
        let b = try await Harness(size: 2 << 20, memory: memory)
        defer { a.cleanUp(); b.cleanUp() }
        for start in stride(from: 0, to: 2 << 20, by: 256 << 10) {
            try await a.write(start..<start + (256 << 10))
            try await b.write(start..<start + (256 << 10))
            #expect(memory.inUse <= 1 << 20)
        }
        var readerA = FillReader(fill: a.fill, head: a.head)
        var readerB = FillReader(fill: b.fill, head: b.head)
        try await a.finish()
        try await b.finish()
        #expect(try await Self.drain(&readerA) == a.bytes)
        #expect(try await Self.drain(&readerB) == b.bytes)
    }

    @Test func aFailedFillFailsItsReaders() async throws {
        let h = try await Harness(size: 1 << 20)
        defer { h.cleanUp() }
        try await h.write(0..<(512 << 10))
        var reader = FillReader(fill: h.fill, head: h.head)
        var received = 0
        while received < (512 << 10) - 1, let buffer = try await reader.next() { received += buffer.readableBytes }
        struct Broken: Error {}
        h.writer.cancel()
        h.fill.failed(Broken())
        await #expect(throws: Broken.self) { _ = try await reader.next() }
        #expect(h.memory.inUse == 0)
    }
}
