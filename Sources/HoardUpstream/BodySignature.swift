import NIOCore

/// What the first bytes of an upstream body must be for the file asked for (a format's magic),
/// so that an error page sent with status 200, or any other wrong file, is refused before a
/// byte of it is stored or handed to a client. Only the start is looked at: the content itself
/// is checked later (digest, parser).
public enum BodySignature: Sendable, Equatable, CustomStringConvertible {
    /// JSON whose top level is an object (repodata, channeldata); whitespace and a BOM may lead.
    case jsonObject
    /// A zstd frame (or a skippable frame before one).
    case zstd
    /// A bzip2 stream (`.tar.bz2` packages, `repodata.json.bz2`).
    case bzip2
    /// A zip archive (`.conda` packages).
    case zip

    public var description: String {
        switch self {
        case .jsonObject: "a JSON object"
        case .zstd: "zstd-compressed data"
        case .bzip2: "bzip2-compressed data"
        case .zip: "a zip archive (.conda)"
        }
    }

    /// Longest lead of whitespace accepted before a JSON document starts.
    static let maxLeadingWhitespace = 4096

    /// Whether `head` (the body's first bytes) has the signature: nil while more bytes are needed.
    public func matches(_ head: [UInt8]) -> Bool? {
        switch self {
        case .jsonObject:
            var i = 0
            if head.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
            while i < head.count, [0x20, 0x09, 0x0A, 0x0D].contains(head[i]) { i += 1 }
            if i < head.count { return head[i] == UInt8(ascii: "{") }
            return head.count > Self.maxLeadingWhitespace ? false : nil
        case .zstd:
            guard head.count >= 4 else { return Self.isPrefix(head, of: [0x28, 0xB5, 0x2F, 0xFD]) ? nil : Self.skippablePrefix(head) }
            // 0x184D2A5? little-endian: a skippable frame, which a zstd stream may start with.
            return head.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) || (head[0] & 0xF0 == 0x50 && head[1...3].elementsEqual([0x2A, 0x4D, 0x18]))
        case .bzip2:
            return head.count >= 3 ? head.starts(with: Array("BZh".utf8)) : (Self.isPrefix(head, of: Array("BZh".utf8)) ? nil : false)
        case .zip:
            let magic: [UInt8] = [0x50, 0x4B, 0x03, 0x04]
            return head.count >= 4 ? head.starts(with: magic) : (Self.isPrefix(head, of: magic) ? nil : false)
        }
    }

    private static func isPrefix(_ head: [UInt8], of magic: [UInt8]) -> Bool { magic.starts(with: head) }

    private static func skippablePrefix(_ head: [UInt8]) -> Bool? {
        let pattern: [UInt8] = [0x2A, 0x4D, 0x18]
        guard let first = head.first, first & 0xF0 == 0x50 else { return false }
        return pattern.starts(with: head.dropFirst()) ? nil : false
    }

    /// A Content-Type that none of these files is ever sent with: a web server's error page.
    public static func isErrorPageType(_ contentType: String?) -> Bool {
        guard let type = contentType?.split(separator: ";").first.map({ $0.lowercased().filter { $0 != " " && $0 != "\t" } }) else {
            return false
        }
        return type == "text/html" || type == "application/xhtml+xml"
    }
}

/// Follows a body's first chunks until its signature is decided.
public struct SignatureCheck: Sendable {
    public let signature: BodySignature
    public let url: String
    private var head: [UInt8] = []
    private var decided = false

    public init(_ signature: BodySignature, url: String) {
        self.signature = signature
        self.url = url
    }

    /// Refuses a response whose Content-Type says it is an error page, before reading its body.
    public static func checkContentType(_ contentType: String?, expected: BodySignature, url: String) throws(UpstreamError) {
        guard BodySignature.isErrorPageType(contentType) else { return }
        throw .integrity(url: url, detail: "answered 200 with a web page (Content-Type \(contentType ?? "")) where \(expected) was expected")
    }

    /// Looks at the next chunk; throws as soon as the start shows the wrong kind of file.
    public mutating func feed(_ chunk: ByteBuffer) throws(UpstreamError) {
        guard !decided else { return }
        head += chunk.readableBytesView.prefix(BodySignature.maxLeadingWhitespace + 8 - head.count)
        switch signature.matches(head) {
        case true?: decided = true
        case false?: throw refusal()
        case nil: break
        }
    }

    /// At the end of the body: one too short to tell is refused too.
    public func finish() throws(UpstreamError) {
        guard decided else { throw refusal() }
    }

    private func refusal() -> UpstreamError {
        let printable = head.prefix(48).map { (0x20..<0x7F).contains($0) ? Character(UnicodeScalar($0)) : "." }
        let start = head.isEmpty ? "an empty body" : "a body starting \"\(String(printable))\""
        return .integrity(url: url, detail: "sent \(start) where \(signature) was expected (an error page or the wrong file); nothing was stored")
    }
}
