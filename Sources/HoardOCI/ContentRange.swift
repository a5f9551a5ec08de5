import HoardHTTP

// `ContentRange` itself (the parser) lives in HoardHTTP, shared with the HTTP fronts.

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
        let range: ContentRange
        do {
            range = try ContentRange(header: contentRange)
        } catch {
            throw .malformed(contentRange)
        }
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
