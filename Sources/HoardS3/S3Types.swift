import AsyncHTTPClient
import Foundation
import NIOCore

/// What HEAD (or a GET's headers) says about an object.
public struct S3ObjectInfo: Sendable, Hashable {
    /// The whole object's size (also for a ranged GET).
    public let size: Int64
    /// The ETag as the server sent it (quotes included): give it to `S3Condition.ifMatch`.
    public let etag: String
    public let lastModified: Date?

    public init(size: Int64, etag: String, lastModified: Date?) {
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
    }
}

/// One object of a listing.
public struct S3ObjectSummary: Sendable, Hashable {
    /// Relative to the location's prefix.
    public let key: String
    public let size: Int64
    public let etag: String?
    public let lastModified: Date?

    public init(key: String, size: Int64, etag: String?, lastModified: Date?) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
    }
}

/// One multipart upload in progress (not completed, not aborted).
public struct S3MultipartUploadSummary: Sendable, Hashable {
    /// Relative to the location's prefix.
    public let key: String
    public let uploadID: String
    public let initiated: Date?

    public init(key: String, uploadID: String, initiated: Date?) {
        self.key = key
        self.uploadID = uploadID
        self.initiated = initiated
    }
}

/// A part already uploaded, for `completeMultipartUpload`.
public struct S3CompletedPart: Sendable, Hashable {
    public let partNumber: Int
    public let etag: String

    public init(partNumber: Int, etag: String) {
        self.partNumber = partNumber
        self.etag = etag
    }
}

/// The condition of a write.
public enum S3Condition: Sendable, Hashable {
    /// Unconditional (last writer wins).
    case none
    /// `If-None-Match: *`: only when no object exists under the key.
    case ifNoneMatchAny
    /// `If-Match: ETAG`: only when the object is still at this ETag.
    case ifMatch(String)
}

/// A GET in progress: the object's headers and its body, streamed.
public struct S3Download: Sendable {
    public let info: S3ObjectInfo
    /// The bytes the body holds: the range asked for, or the whole object.
    public let contentLength: Int64
    /// The first...last byte the body holds (inclusive), when a range was asked for.
    public let range: ClosedRange<Int64>?
    /// The body: read it to the end (or drop it) before the connection is reused.
    public let body: HTTPClientResponse.Body

    public init(info: S3ObjectInfo, contentLength: Int64, range: ClosedRange<Int64>?, body: HTTPClientResponse.Body) {
        self.info = info
        self.contentLength = contentLength
        self.range = range
        self.body = body
    }
}
