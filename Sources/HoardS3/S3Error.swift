import HoardStore

/// Everything the S3 client can fail with, with messages an operator can act on.
public enum S3Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `--storage`/endpoint/region settings do not name a bucket we can address.
    case invalidLocation(String)
    /// No credentials were found (neither environment variables nor a profile).
    case noCredentials(String)
    /// A credentials file could not be read or lacks the profile.
    case invalidCredentials(String)
    /// The request could not be made (connection refused, reset, timed out).
    case transport(operation: String, endpoint: String, reason: String)
    /// The server answered with an error status; `code`/`message` from its `<Error>` body.
    case server(operation: String, key: String?, status: Int, code: String?, message: String?)
    /// The server answered something we cannot read (bad XML, a missing or malformed header).
    case invalidResponse(operation: String, reason: String)
    /// The caller passed something S3 cannot take (e.g. a part number outside 1...10000).
    case invalidArgument(String)
    /// `getBytes` found an object larger than the caller's limit.
    case tooLarge(key: String, size: Int64, limit: Int)

    /// The same failure as the store sees it: unreachable or 5xx (incl. 503 SlowDown) is
    /// `.unavailable` (servers answer 503, try again); the rest are index/IO-like failures.
    public var storeError: StoreError {
        switch self {
        case .transport(_, let endpoint, let reason):
            return .unavailable(backend: endpoint, reason: reason)
        case .server(let operation, _, let status, let code, _) where status >= 500 || Self.retryableCodes.contains(code ?? ""):
            return .unavailable(backend: "S3", reason: "\(operation) answered \(status)\(code.map { " \($0)" } ?? "")")
        default:
            return .index(description)
        }
    }

    /// Codes that mean "try again" also when they arrive inside a 200 answer (CompleteMultipartUpload, CopyObject).
    static let retryableCodes: Set<String> = ["InternalError", "SlowDown", "ServiceUnavailable", "RequestTimeout"]

    /// True for failures that may go away by themselves (transport, 5xx).
    public var isUnavailable: Bool {
        if case .unavailable = storeError { return true }
        return false
    }

    public var description: String {
        switch self {
        case .invalidLocation(let message):
            return message
        case .noCredentials(let message):
            return message
        case .invalidCredentials(let message):
            return message
        case .transport(let operation, let endpoint, let reason):
            return "S3 \(operation): \(endpoint) cannot be reached (\(reason))"
        case .server(let operation, let key, let status, let code, let message):
            var text = "S3 \(operation)"
            if let key { text += " \(key)" }
            text += " answered \(status)"
            if let code { text += " \(code)" }
            if let message, !message.isEmpty { text += ": \(message)" }
            switch code {
            case "SignatureDoesNotMatch":
                text += " (check the secret key: AWS_SECRET_ACCESS_KEY or the profile's aws_secret_access_key)"
            case "InvalidAccessKeyId":
                text += " (check the access key: AWS_ACCESS_KEY_ID or the profile's aws_access_key_id)"
            case "NoSuchBucket":
                text += " (create the bucket first, or fix the bucket in --storage)"
            case "AccessDenied":
                text += " (the credentials lack permission for this bucket or prefix)"
            default:
                break
            }
            return text
        case .invalidResponse(let operation, let reason):
            return "S3 \(operation): unreadable answer (\(reason))"
        case .invalidArgument(let message):
            return message
        case .tooLarge(let key, let size, let limit):
            return "S3 object \(key) holds \(size) bytes, more than the \(limit) expected here"
        }
    }
}
