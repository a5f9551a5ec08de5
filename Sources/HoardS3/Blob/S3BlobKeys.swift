import Foundation
import HoardStore

/// Where the S3 backend keeps things in the bucket (keys relative to the bucket prefix; the
/// client adds `PREFIX/`). cache-layout.md "The bucket" documents the same.
///
/// - `blobs/sha256/<64 hex>`: committed blobs, complete and verified (nothing else is written
///   there: a multipart upload to such a key is completed only after the hash matched).
/// - `staging/<random>`: an ingest whose digest was not known when it started, completed there
///   and copied to its blob key on commit, then deleted.
/// - `uploads/<id>/meta` (the session's metadata, verbatim) and `uploads/<id>/part-<offset>`
///   (each append, named by its 20-digit starting offset so a listing is in order): an upload
///   session any node can append to and finish.
enum S3BlobKeys {
    static let blobs = "blobs/"
    static let blobPrefix = "blobs/sha256/"
    static let staging = "staging/"
    static let uploads = "uploads/"

    static func blob(_ digest: BlobDigest) -> String { blobPrefix + digest.hex }

    /// The digest a key under `blobs/` names, or nil when it is not exactly a blob key.
    static func digest(ofBlobKey key: String) -> BlobDigest? {
        guard key.hasPrefix(blobPrefix) else { return nil }
        return BlobDigest(canonical: key.dropFirst(blobPrefix.count))
    }

    static func newStaging() -> String { staging + UUID().uuidString.lowercased() }

    static func session(_ id: UploadID) -> String { uploads + id.value + "/" }
    static func sessionMeta(_ id: UploadID) -> String { session(id) + "meta" }
    static func sessionPart(_ id: UploadID, offset: Int64) -> String {
        let digits = String(offset)
        return session(id) + "part-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// What a key under `uploads/` is: the session it belongs to and, for a part, its offset.
    enum SessionObject: Equatable {
        case meta(UploadID)
        case part(UploadID, offset: Int64)
        /// Under a session's prefix but neither (not written by hoard).
        case other(UploadID)
    }

    static func sessionObject(_ key: String) -> SessionObject? {
        guard key.hasPrefix(uploads) else { return nil }
        let rest = key.dropFirst(uploads.count)
        guard let slash = rest.firstIndex(of: "/"), let id = UploadID(rest[..<slash]) else { return nil }
        let name = rest[rest.index(after: slash)...]
        if name == "meta" { return .meta(id) }
        if name.hasPrefix("part-"), name.count == 25, let offset = Int64(name.dropFirst(5)), offset >= 0 {
            return .part(id, offset: offset)
        }
        return .other(id)
    }
}
