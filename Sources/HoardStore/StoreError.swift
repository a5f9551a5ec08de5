#if canImport(Glibc)
import Glibc
#endif

/// Everything that can go wrong in the store, with messages an operator can act on.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Text that is not `sha256:` followed by 64 lowercase hex characters.
    case invalidDigest(String)
    /// Ingested bytes did not hash to what the caller expected; nothing was kept.
    case digestMismatch(expected: BlobDigest, actual: BlobDigest)
    /// Ingested bytes were not as many as the caller expected; nothing was kept.
    case sizeMismatch(expected: Int64, actual: Int64)
    /// A blob the caller asked for is not in the store.
    case blobNotFound(BlobDigest)
    /// A requested byte range lies outside the blob.
    case rangeNotSatisfiable(size: Int64)
    /// A system call failed; `errno` says why (ENOSPC is reported as `diskFull`).
    case io(operation: String, path: String, errno: Int32)
    /// The file system has no room left; the partial write was discarded.
    case diskFull(path: String)
    /// Another hoard process holds the store.
    case locked(root: String, holder: String)
    /// The index names blobs but the blob directory is missing or holds none of them: the blob
    /// volume is most likely not mounted. Starting would drop every row, so hoard refuses.
    case blobVolumeMissing(directory: String, indexedBlobs: Int)
    /// There is no store at this root (no index), and the command does not create one.
    case noStore(root: String)
    /// The SQLite index could not be opened or migrated.
    case index(String)
    /// A size such as `50GB` could not be read.
    case invalidSize(String)
    /// A writer was used after it was committed or aborted.
    case writerClosed
    /// An upload session that is not (or no longer) in the store.
    case uploadNotFound(String)
    /// The storage backend (an S3 bucket) cannot be reached or refused the request; nothing was
    /// changed. Servers answer 503: the request may succeed once the backend is back.
    case unavailable(backend: String, reason: String)

    public var description: String {
        switch self {
        case .invalidDigest(let text):
            return "invalid digest '\(text)': expected sha256: followed by 64 lowercase hex characters"
        case .digestMismatch(let expected, let actual):
            return "content digest mismatch: expected \(expected), got \(actual); the bytes were discarded"
        case .sizeMismatch(let expected, let actual):
            return "content size mismatch: expected \(expected) bytes, got \(actual); the bytes were discarded"
        case .blobNotFound(let digest):
            return "blob \(digest) is not in the store"
        case .rangeNotSatisfiable(let size):
            return "requested range is outside the blob of \(size) bytes"
        case .io(let operation, let path, let code):
            return "\(operation) \(path): \(String(cString: strerror(code)))"
        case .diskFull(let path):
            return "no space left on the device holding \(path) (disk full or quota reached); nothing partial was kept. Free space there, or lower --max-size so eviction keeps room"
        case .locked(let root, let holder):
            return "the store at \(root) is in use by another hoard process (\(holder)); stop it first"
        case .blobVolumeMissing(let directory, let count):
            return """
                the index names \(count) blobs but the blob directory \(directory) is missing or holds none of them; \
                the blob volume may not be mounted. Mount it and start again; to accept the loss and drop those \
                \(count) index rows (pushed OCI content included), pass --accept-missing-blobs
                """
        case .noStore(let root):
            return "there is no hoard store at \(root) (no index.db); give the right --root"
        case .index(let message):
            return "index: \(message)"
        case .invalidSize(let text):
            return "invalid size '\(text)': use a number with an optional unit, e.g. 500MB, 50GB, 2GiB"
        case .writerClosed:
            return "blob writer used after commit or abort"
        case .uploadNotFound(let id):
            return "upload session \(id) is not in the store (finished, cancelled or expired)"
        case .unavailable(let backend, let reason):
            return "the storage backend \(backend) is unavailable: \(reason); nothing was changed, try again once it is back"
        }
    }

    /// Maps a failed system call to the right case.
    static func posix(_ operation: String, _ path: String, _ code: Int32 = errno) -> StoreError {
        code == ENOSPC || code == EDQUOT ? .diskFull(path: path) : .io(operation: operation, path: path, errno: code)
    }
}
