/// The error codes of the distribution-spec ("Error Codes" table), with their usual statuses.
public enum OCIErrorCode: String, Sendable, CaseIterable {
    case blobUnknown = "BLOB_UNKNOWN"
    case blobUploadInvalid = "BLOB_UPLOAD_INVALID"
    case blobUploadUnknown = "BLOB_UPLOAD_UNKNOWN"
    case digestInvalid = "DIGEST_INVALID"
    case manifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN"
    case manifestInvalid = "MANIFEST_INVALID"
    case manifestUnknown = "MANIFEST_UNKNOWN"
    case nameInvalid = "NAME_INVALID"
    case nameUnknown = "NAME_UNKNOWN"
    case sizeInvalid = "SIZE_INVALID"
    case unauthorized = "UNAUTHORIZED"
    case denied = "DENIED"
    case unsupported = "UNSUPPORTED"
    case tooManyRequests = "TOOMANYREQUESTS"

    /// The status a registry answers with for this code unless the situation calls for another
    /// (e.g. 416 for out-of-order chunks, 413 for oversize manifests, 405 for unsupported methods).
    public var defaultStatus: Int {
        switch self {
        case .blobUnknown, .blobUploadUnknown, .manifestUnknown, .nameUnknown: 404
        case .blobUploadInvalid, .digestInvalid, .manifestBlobUnknown, .manifestInvalid, .nameInvalid,
            .sizeInvalid:
            400
        case .unauthorized: 401
        case .denied: 403
        case .unsupported: 405
        case .tooManyRequests: 429
        }
    }

    /// The short description from the spec table; used when no message is given.
    public var defaultMessage: String {
        switch self {
        case .blobUnknown: "blob unknown to registry"
        case .blobUploadInvalid: "blob upload invalid"
        case .blobUploadUnknown: "blob upload unknown to registry"
        case .digestInvalid: "provided digest did not match uploaded content"
        case .manifestBlobUnknown: "manifest references a manifest or blob unknown to registry"
        case .manifestInvalid: "manifest invalid"
        case .manifestUnknown: "manifest unknown to registry"
        case .nameInvalid: "invalid repository name"
        case .nameUnknown: "repository name not known to registry"
        case .sizeInvalid: "provided length did not match content length"
        case .unauthorized: "authentication required"
        case .denied: "requested access to the resource is denied"
        case .unsupported: "the operation is unsupported"
        case .tooManyRequests: "too many requests"
        }
    }
}

/// One OCI error: code, HTTP status, human message and optional string-keyed detail.
public struct OCIError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: OCIErrorCode
    public var status: Int
    public var message: String
    /// The spec allows arbitrary JSON here; a flat string map covers what hoard reports.
    public var detail: [String: String]?

    public init(_ code: OCIErrorCode, _ message: String? = nil, status: Int? = nil, detail: [String: String]? = nil) {
        self.code = code
        self.status = status ?? code.defaultStatus
        self.message = message ?? code.defaultMessage
        self.detail = detail
    }

    public var description: String { "\(status) \(code.rawValue): \(message)" }

    /// `{"errors":[{"code":...,"message":...,"detail":...}]}` for this error alone.
    public var jsonBody: [UInt8] { OCIError.jsonBody([self]) }

    /// The response body for several errors (the spec allows a list). Keys in fixed order.
    public static func jsonBody(_ errors: [OCIError]) -> [UInt8] {
        var w = JSONWriter()
        w.object { o in
            o.array("errors") { a in
                for e in errors {
                    a.object { item in
                        item.string("code", e.code.rawValue)
                        item.string("message", e.message)
                        if let detail = e.detail {
                            item.object("detail") { d in
                                for key in detail.keys.sorted() { d.string(key, detail[key]!) }
                            }
                        }
                    }
                }
            }
        }
        return w.bytes
    }

    /// Content type for the body.
    public static let contentType = "application/json"
}
