import CSimdjson

/// An immutable byte buffer with `RepodataRecords.requiredPadding` spare bytes allocated after
/// the content, so simdjson can read it in place instead of copying a 300 MB document.
///
/// `@unchecked Sendable`: the memory is written only inside `init` and is read-only afterwards.
public final class PaddedBuffer: @unchecked Sendable {
    public let count: Int
    private let storage: UnsafeMutableRawPointer

    /// Allocates `count + padding` bytes and lets `fill` write the first `count` (e.g. `read(2)`
    /// a file straight into it). The padding is zeroed.
    public init<E: Error>(count: Int, fill: (UnsafeMutableRawBufferPointer) throws(E) -> Void) throws(E) {
        let padding = RepodataRecords.requiredPadding
        self.count = count
        storage = UnsafeMutableRawPointer.allocate(byteCount: count + padding, alignment: 64)
        (storage + count).initializeMemory(as: UInt8.self, repeating: 0, count: padding)
        do {
            try fill(UnsafeMutableRawBufferPointer(start: storage, count: count))
        } catch {
            storage.deallocate()
            throw error
        }
    }

    /// Copies `bytes` (for small documents and tests).
    public convenience init(copying bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        self.init(count: array.count) { (dst: UnsafeMutableRawBufferPointer) in
            array.withUnsafeBytes { dst.copyMemory(from: $0) }
        }
    }

    deinit { storage.deallocate() }

    /// Bytes allocated, content plus padding.
    public var allocatedCount: Int { count + RepodataRecords.requiredPadding }

    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: storage, count: count))
    }
}
