import NIOCore

/// One ingest into a `BlobStore`. `commit()` verifies the digest and size of everything written
/// and publishes the blob atomically; until then nothing is visible, and `cancel()` (or an error,
/// or the writer going away) leaves nothing behind.
///
/// A writer belongs to one task at a time (it may move between tasks and threads, but is never
/// used by two at once); its tail readers may be used by any number of tasks meanwhile.
public protocol BlobWriter: AnyObject, Sendable {
    var expectedDigest: BlobDigest? { get }
    var expectedSize: Int64? { get }
    /// Bytes accepted so far (all of them readable through a tail reader).
    var bytesWritten: Int64 { get }
    /// Appends bytes, off the cooperative pool; fails early when more arrive than the expected
    /// size allows (nothing is kept then).
    func write(_ buffer: ByteBuffer) async throws(StoreError)
    /// Appends bytes from a thread that may block (a worker pool compressing or rewriting a
    /// document). BLOCKING: never call it on the threads that answer requests.
    func writeBlocking(_ bytes: UnsafeRawBufferPointer) throws(StoreError)
    /// Checks digest and size of everything written against what was expected, publishing
    /// nothing yet: once this returns the bytes are known good. On a mismatch nothing is kept.
    @discardableResult func verify() throws(StoreError) -> BlobDigest
    /// Verifies, makes the bytes durable and publishes them under their digest.
    func commit() async throws(StoreError) -> (digest: BlobDigest, size: Int64)
    /// Discards everything written; the writer is closed.
    func cancel()
    /// The bytes written so far as contiguous bytes: a check of the whole body (a document's
    /// parse) before anything is committed. BLOCKING: call it on a worker thread pool.
    func withWrittenBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R
    /// Reads what has been written so far (a blob still being ingested: the pull-through tee);
    /// it stays readable after commit. Its `size` means nothing: read up to `bytesWritten`.
    func makeTailReader() throws(StoreError) -> any BlobReader
}
