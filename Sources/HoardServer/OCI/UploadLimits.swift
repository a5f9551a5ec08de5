import HoardOCI
import HoardStore
import Hummingbird

/// The limits on OCI uploads: how large one blob may be, how many sessions may be open, and
/// (with `--max-size`) how many bytes sessions may hold in `tmp/uploads` together.
struct UploadLimits: Sendable {
    /// The largest blob one upload may bring.
    var maxSize: ByteSize
    /// Sessions open at once.
    var maxSessions: Int
    /// The store's size limit, which bytes held by upload sessions count against; nil: none.
    var storeMaxSize: ByteSize?
    /// What a client refused for too many sessions is told to wait, in seconds.
    static let sessionRetryAfter = 60

    /// Throws 413 when an upload of `total` bytes would pass `maxSize`.
    func checkBlobSize(_ total: Int64) throws(OCIError) {
        guard total > maxSize.bytes else { return }
        throw OCIError(
            .blobUploadInvalid,
            "the blob is larger than this registry accepts (\(maxSize); [oci] max_upload_size, --oci-max-upload-size); the upload was removed",
            status: 413, detail: ["limit": String(maxSize.bytes)])
    }

    /// Throws 507 when sessions would hold more than the store may keep in all (`--max-size`):
    /// no eviction could make room for them.
    func checkUploadBytes(_ total: Int64) throws(OCIError) {
        guard let storeMaxSize, total > storeMaxSize.bytes else { return }
        throw OCIError(
            .blobUploadInvalid,
            "uploads in progress would hold more than the store's size limit (\(storeMaxSize), --max-size); finish or cancel other uploads, or raise the limit",
            status: 507, detail: ["limit": String(storeMaxSize.bytes)])
    }

    /// The 429 for a POST beyond `maxSessions`.
    func tooManySessions(open: Int) -> OCIResponseError {
        OCIResponseError(
            error: OCIError(
                .tooManyRequests,
                "\(open) upload sessions are open, the most this registry allows ([oci] max_upload_sessions, --oci-max-upload-sessions); finish or cancel one, or retry later",
                detail: ["limit": String(maxSessions)]),
            headers: [.retryAfter: String(Self.sessionRetryAfter)])
    }
}
