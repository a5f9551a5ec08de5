import HoardStore
import NIOCore

/// How the fast path reaches a blob's bytes: a file handle from the store's reader (for
/// sendfile), only while the store still holds the blob (the store answers nil otherwise).
enum FastBlobSource {
    /// A handle on the blob for sendfile (the caller closes it); nil when the backend keeps no
    /// local file, or when the store has removed the blob since the entry was published.
    static func handle(_ reader: any BlobReader) -> NIOFileHandle? {
        (try? reader.fileHandle()) ?? nil
    }

    /// Whether the blob is still held (for HEAD and 304, which send no bytes).
    static func isCurrent(_ reader: any BlobReader) -> Bool {
        guard let handle = handle(reader) else { return false }
        try? handle.close()
        return true
    }
}
