/// The byte range of an upload chunk: `Content-Range: <start>-<end>`, inclusive on both ends.
public struct ContentRange: Hashable, Sendable, CustomStringConvertible {
    public let start: Int64
    public let end: Int64

    public var length: Int64 { end - start + 1 }

    public init(start: Int64, end: Int64) throws(UploadRangeError) {
        guard start >= 0, end >= start else { throw .malformed("\(start)-\(end)") }
        self.start = start
        self.end = end
    }

    /// Parses the spec form `0-1023` and also the RFC 9110 form `bytes 0-1023` or
    /// `bytes 0-1023/4096` (some clients send it; the total is ignored).
    public init(header: String) throws(UploadRangeError) {
        var text = Substring(header.trimmingASCIISpaces)
        if text.lowercased().hasPrefix("bytes ") { text = text.dropFirst(6) }
        if text.lowercased().hasPrefix("bytes=") { text = text.dropFirst(6) }
        if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let s = Self.number(parts[0]), let e = Self.number(parts[1]) else {
            throw .malformed(header)
        }
        try self.init(start: s, end: e)
    }

    private static func number(_ s: Substring) -> Int64? {
        guard !s.isEmpty, s.utf8.count <= 18, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(s)
    }

    public var description: String { "\(start)-\(end)" }
}

/// Upload chunk ordering and the `Range` header of upload responses.
public enum UploadProgress {
    /// Checks a PATCH (or closing PUT) chunk against the session: it must start at `currentOffset`
    /// (bytes received so far). `bodyLength` is the chunk's actual length when known.
    /// Without a `Content-Range` (streamed PATCH) the chunk simply continues; returns nil then.
    @discardableResult
    public static func checkChunk(contentRange: String?, currentOffset: Int64, bodyLength: Int64?) throws(UploadRangeError)
        -> ContentRange?
    {
        guard let contentRange else { return nil }
        let range = try ContentRange(header: contentRange)
        guard range.start == currentOffset else {
            throw .outOfOrder(range: range, expectedStart: currentOffset)
        }
        if let bodyLength, bodyLength != range.length {
            throw .lengthMismatch(range: range, bodyLength: bodyLength)
        }
        return range
    }

    /// The `Range: 0-<end>` value for 202/204 upload responses. `<end>` is the last byte received;
    /// with nothing received yet it is `0-0`, as distribution does (clients read it as offset 0).
    public static func rangeHeader(receivedBytes: Int64) -> String {
        "0-\(max(receivedBytes - 1, 0))"
    }
}

public enum UploadRangeError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)
    case outOfOrder(range: ContentRange, expectedStart: Int64)
    case lengthMismatch(range: ContentRange, bodyLength: Int64)

    public var message: String {
        switch self {
        case .malformed(let h):
            "Content-Range \"\(h)\" is malformed; expected <start>-<end> with start <= end"
        case .outOfOrder(let r, let expected):
            "chunk \(r) is out of order: the upload has \(expected) bytes, so the next chunk must start at \(expected); "
                + "GET the upload location to resume"
        case .lengthMismatch(let r, let n):
            "Content-Range \(r) announces \(r.length) bytes but the body has \(n)"
        }
    }

    public var description: String { message }

    /// 416 for ordering (spec); 400 for a header that cannot be parsed or does not fit the body.
    public var ociError: OCIError {
        switch self {
        case .outOfOrder: OCIError(.blobUploadInvalid, message, status: 416)
        case .malformed: OCIError(.blobUploadInvalid, message, status: 400)
        case .lengthMismatch: OCIError(.sizeInvalid, message, status: 400)
        }
    }
}

extension String {
    var trimmingASCIISpaces: Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
