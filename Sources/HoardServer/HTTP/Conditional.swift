import HoardHTTP
import Hummingbird

/// The validators of one representation: a strong ETag and a modification time.
struct Validators: Sendable {
    /// Quoted, e.g. `"<sha256 hex>"`.
    let etag: String
    /// Unix seconds.
    let lastModified: Double?

    init(etag: String, lastModified: Double?) {
        self.etag = etag
        self.lastModified = lastModified
    }

    /// The ETag for content named by its sha256.
    init(digestHex: String, lastModified: Double?) {
        self.init(etag: "\"\(digestHex)\"", lastModified: lastModified)
    }

    func apply(to headers: inout HTTPFields) {
        headers[.eTag] = etag
        if let lastModified { headers[.lastModified] = HTTPDate.format(lastModified) }
    }

    /// Whether a GET or HEAD with these headers should get 304 (RFC 9110 13.1.2, 13.1.3):
    /// If-None-Match wins over If-Modified-Since, and compares weakly.
    func notModified(_ request: HTTPFields) -> Bool {
        if let header = request[.ifNoneMatch] {
            return header.split(separator: ",").contains { tag in
                let tag = tag.trimmed()
                return tag == "*" || Self.opaque(tag) == Self.opaque(etag)
            }
        }
        if let header = request[.ifModifiedSince], let since = HTTPDate.parse(header), let lastModified {
            return lastModified.rounded(.down) <= since
        }
        return false
    }

    /// Whether an If-Range precondition holds, so a Range may be honoured (strong comparison).
    func ifRangeHolds(_ request: HTTPFields) -> Bool {
        guard let header = request[.ifRange]?.trimmed() else { return true }
        if header.hasPrefix("\"") { return header == etag }
        if header.hasPrefix("W/") { return false }
        guard let date = HTTPDate.parse(header), let lastModified else { return false }
        return lastModified.rounded(.down) == date
    }

    private static func opaque(_ tag: some StringProtocol) -> Substring {
        let tag = Substring(tag)
        return tag.hasPrefix("W/") ? tag.dropFirst(2) : tag
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (header values are ASCII).
    func trimmed() -> String { String(trimmingOWS) }
}
