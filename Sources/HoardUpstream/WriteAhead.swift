import HoardStore
import NIOCore

/// A fill's writes to the store, one in flight while the next batch is received: hashing and
/// writing a batch (on the store's threads) overlaps with receiving and batching the next one,
/// instead of following it. Readers see a batch once it is written (`Fill.wrote`), in order.
/// The owner calls `drain` before anything that needs every byte written (verify, commit) and
/// `abandon` before it cancels the writer.
struct WriteAhead: ~Copyable {
    private var inFlight: Task<Void, any Error>?

    init() {}

    /// Waits for the write before (rethrowing its error), then starts writing `batch`.
    mutating func submit(_ batch: ByteBuffer, to writer: any BlobWriter, fill: Fill) async throws {
        try await drain()
        inFlight = Task {
            try await writer.write(batch)
            fill.wrote(batch)
        }
    }

    /// Waits for the write in flight; its error, if any, is thrown here.
    mutating func drain() async throws {
        guard let write = inFlight else { return }
        inFlight = nil
        try await write.value
    }

    /// Waits for the write in flight and ignores its outcome (the fill is failing anyway).
    mutating func abandon() async {
        try? await drain()
    }
}
