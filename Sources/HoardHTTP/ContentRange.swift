/// A byte range `first-last` (inclusive) as a `Content-Range` names it.
///
/// Parses the RFC 9110 §14.4 forms `bytes 0-1023/4096` and `bytes 0-1023/*`, and the bare
/// `0-1023` (and `bytes=0-1023`) that OCI distribution upload chunks use. Numbers larger than
/// `Int64` are rejected, and `length` never overflows.
public struct ContentRange: Hashable, Sendable, CustomStringConvertible {
    public let start: Int64
    public let end: Int64
    /// The representation's complete length, when the header gave one.
    public let completeLength: Int64?

    public var length: Int64 { end - start + 1 }

    public init(start: Int64, end: Int64, completeLength: Int64? = nil) throws(ContentRangeError) {
        // end < Int64.max keeps `length` representable.
        guard start >= 0, end >= start, end < Int64.max else { throw .malformed("\(start)-\(end)") }
        if let completeLength, completeLength <= end { throw .malformed("\(start)-\(end)/\(completeLength)") }
        self.start = start
        self.end = end
        self.completeLength = completeLength
    }

    public init(header: String) throws(ContentRangeError) {
        var text = header.trimmingOWS
        let lower = text.lowercased()
        if lower.hasPrefix("bytes ") || lower.hasPrefix("bytes=") { text = text.dropFirst(6).trimmingOWS }
        var total: Int64?
        if let slash = text.firstIndex(of: "/") {
            let length = text[text.index(after: slash)...]
            if length != "*" {
                guard let value = HeaderDigits.exact(length) else { throw .malformed(header) }
                total = value
            }
            text = text[..<slash]
        }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let s = HeaderDigits.exact(parts[0]), let e = HeaderDigits.exact(parts[1]) else {
            throw .malformed(header)
        }
        do {
            try self.init(start: s, end: e, completeLength: total)
        } catch {
            throw .malformed(header)
        }
    }

    /// The response field value `bytes first-last/size`.
    public static func bytes(start: Int64, end: Int64, size: Int64) -> String { "bytes \(start)-\(end)/\(size)" }

    /// The 416 response field value `bytes */size`.
    public static func unsatisfied(size: Int64) -> String { "bytes */\(size)" }

    public var description: String { "\(start)-\(end)" }
}

public enum ContentRangeError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)

    public var description: String {
        switch self {
        case .malformed(let h): "Content-Range \"\(h)\" is malformed; expected <start>-<end> with start <= end"
        }
    }
}
