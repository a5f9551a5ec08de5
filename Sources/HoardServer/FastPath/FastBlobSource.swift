import HoardStore
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// How the fast path reaches a blob's bytes: a file handle from the store's reader (for
/// sendfile), only while the store still holds the blob.
enum FastBlobSource {
    /// A handle on the blob for sendfile (the caller closes it); nil when the backend keeps no
    /// local file, or when the store has removed the file since the entry was published (evicted,
    /// `verify --repair`, removed by hand): a handle whose file has no name left is a removed blob.
    static func handle(_ reader: any BlobReader) -> NIOFileHandle? {
        guard let handle = try? reader.fileHandle() else { return nil }
        let current = (try? handle.withUnsafeFileDescriptor { fd -> Bool in
            var st = stat()
            return fstat(fd, &st) == 0 && st.st_nlink > 0 && Int64(st.st_size) == reader.size
        }) ?? false
        guard current else {
            try? handle.close()
            return nil
        }
        return handle
    }

    /// Whether the blob is still held (for HEAD and 304, which send no bytes).
    static func isCurrent(_ reader: any BlobReader) -> Bool {
        guard let handle = handle(reader) else { return false }
        try? handle.close()
        return true
    }
}
