import HoardHTTP

/// Why an upstream could not give what was asked, in words an operator can act on.
public enum UpstreamError: Error, Sendable, CustomStringConvertible {
    /// No connection could be made (refused, DNS, TLS).
    case unreachable(url: String, reason: String)
    /// The upstream did not answer, or stalled mid-body, for longer than the timeout.
    case timedOut(url: String, after: Duration)
    /// The upstream answered with a status hoard cannot use.
    case status(url: String, code: Int)
    /// The body ended early or did not match its Content-Length.
    case truncated(url: String, expected: Int64, received: Int64)
    /// The bytes did not hash to what the channel's metadata says; nothing was kept.
    case integrity(url: String, detail: String)
    /// A document was larger than hoard accepts for its kind.
    case tooLarge(url: String, limit: Int64)
    /// A channel document was larger, once decompressed, than `--max-document-size` allows.
    case documentTooLarge(url: String, limit: Int64)
    /// The transfer failed for another reason.
    case transfer(url: String, reason: String)
    /// A registry refused hoard's credentials (or wants some hoard does not have).
    case denied(url: String, reason: String)
    /// Every upstream request slot stayed taken for longer than the timeout.
    case busy(url: String, limit: Int, waited: Duration)
    /// A channel's upstream answered 401 or 403: the credentials (named by their source) are
    /// missing, wrong or not allowed there.
    case unauthorized(channel: String, url: String, code: Int, source: String)

    /// Secrets in URLs (`/t/<TOKEN>/`, `user:password@`) never reach a log, a response or a metric.
    public var description: String { SecretRedaction.redact(unredacted) }

    private var unredacted: String {
        switch self {
        case .unauthorized(let channel, let url, let code, let source):
            return "channel \(channel): upstream \(url) answered HTTP \(code) (\(code == 401 ? "authentication required" : "forbidden"))"
                + " with \(source); check the channel's upstream credentials"
        case .unreachable(let url, let reason): return "upstream \(url) is unreachable: \(reason)"
        case .timedOut(let url, let after): return "upstream \(url) did not answer within \(after)"
        case .status(let url, let code): return "upstream \(url) answered HTTP \(code)"
        case .truncated(let url, let expected, let received):
            return "upstream \(url) sent \(received) of \(expected) bytes before closing"
        case .integrity(let url, let detail): return "upstream \(url) sent bad bytes: \(detail)"
        case .tooLarge(let url, let limit): return "upstream \(url) sent more than the \(limit)-byte limit"
        case .documentTooLarge(let url, let limit):
            return "upstream \(url) sent a document larger than \(limit) bytes once decompressed; refused"
                + " (raise --max-document-size / [upstream] max_document_size if the channel really is this large)"
        case .transfer(let url, let reason): return "transfer from \(url) failed: \(reason)"
        case .denied(let url, let reason): return "upstream \(url) refused access: \(reason)"
        case .busy(let url, let limit, let waited):
            return "request to \(url) waited \(waited) for one of \(limit) upstream request slots ([upstream] max_concurrent, --upstream-max-concurrent)"
        }
    }

    /// 504 for time-outs, 502 for everything else that upstream did wrong.
    public var isTimeout: Bool {
        switch self {
        case .timedOut, .busy: return true
        default: return false
        }
    }

    /// The upstream said the thing does not exist.
    public var isNotFound: Bool {
        if case .status(_, let code) = self { return code == 404 || code == 403 || code == 410 }
        return false
    }
}
