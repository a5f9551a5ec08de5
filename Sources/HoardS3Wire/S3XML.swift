import Foundation
import XMLCoder

// S3's XML answers, decoded with XMLCoder. Numbers are read as text and converted with checked
// conversions by the client (an oversized or negative number is an unreadable answer, not a trap).

/// `<Error><Code>..</Code><Message>..</Message></Error>`
public struct S3ErrorBody: Decodable, Sendable {
    public let code: String?
    public let message: String?

    enum CodingKeys: String, CodingKey {
        case code = "Code"
        case message = "Message"
    }
}

/// ListObjectsV2's `<ListBucketResult>`.
public struct ListBucketResult: Decodable, Sendable {
    public let isTruncated: String?
    public let nextContinuationToken: String?
    public let contents: [Contents]?

    public struct Contents: Decodable, Sendable {
        public let key: String
        public let size: String?
        public let etag: String?
        public let lastModified: String?

        enum CodingKeys: String, CodingKey {
            case key = "Key"
            case size = "Size"
            case etag = "ETag"
            case lastModified = "LastModified"
        }
    }

    enum CodingKeys: String, CodingKey {
        case isTruncated = "IsTruncated"
        case nextContinuationToken = "NextContinuationToken"
        case contents = "Contents"
    }
}

/// `<InitiateMultipartUploadResult>`.
public struct InitiateMultipartUploadResult: Decodable, Sendable {
    public let uploadID: String

    enum CodingKeys: String, CodingKey {
        case uploadID = "UploadId"
    }
}

/// `<CompleteMultipartUploadResult>` (also `<CopyObjectResult>`: both carry the new ETag).
public struct ETagResult: Decodable, Sendable {
    public let etag: String?

    enum CodingKeys: String, CodingKey {
        case etag = "ETag"
    }
}

/// ListMultipartUploads' `<ListMultipartUploadsResult>`.
public struct ListMultipartUploadsResult: Decodable, Sendable {
    public let isTruncated: String?
    public let nextKeyMarker: String?
    public let nextUploadIDMarker: String?
    public let uploads: [Upload]?

    public struct Upload: Decodable, Sendable {
        public let key: String
        public let uploadID: String
        public let initiated: String?

        enum CodingKeys: String, CodingKey {
            case key = "Key"
            case uploadID = "UploadId"
            case initiated = "Initiated"
        }
    }

    enum CodingKeys: String, CodingKey {
        case isTruncated = "IsTruncated"
        case nextKeyMarker = "NextKeyMarker"
        case nextUploadIDMarker = "NextUploadIdMarker"
        case uploads = "Upload"
    }
}

public enum S3XML {
    /// S3's answers nest four elements deep at most (`ListBucketResult/Contents/Owner/ID`).
    public static let maximumDepth = 32

    public static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) -> T? {
        guard isPlainDocument(bytes) else { return nil }
        let decoder = XMLDecoder()
        decoder.shouldProcessNamespaces = true
        return try? decoder.decode(type, from: Data(bytes))
    }

    /// Whether `bytes` is made only of what S3's answers are made of, so the parser underneath
    /// never sees the rest: FoundationXML and XMLCoder trap or overflow the stack on some inputs,
    /// which would let one broken or hostile answer take the node down. Found by mutating real
    /// answers:
    /// - a name that is not UTF-8 (`<\u{D0}ode>`) traps in FoundationXML: the bytes must be UTF-8;
    /// - a processing instruction without data (`<?xm?>`) makes it read a null pointer, also
    ///   inside a broken tag (`<a-<?xm?>>`): only the XML declaration may open with `<?`, first
    ///   in the document, and no tag may hold a `<`;
    /// - elements nested tens of thousands deep overflow the stack in XMLCoder: at most
    ///   `maximumDepth` (S3 nests four deep);
    /// - and no `<!` at all (document types, comments, CDATA): S3 sends none.
    public static func isPlainDocument(_ bytes: [UInt8]) -> Bool {
        guard String(validating: bytes, as: UTF8.self) != nil else { return false }
        let open = UInt8(ascii: "<"), close = UInt8(ascii: ">"), slash = UInt8(ascii: "/")
        // Wherever they stand (libxml2 recovers from a broken tag and reads on inside it): no
        // `<!`, and `<?` only as the XML declaration, first.
        let leading = bytes.prefix { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }.count
        var at = 0
        while let start = bytes[at...].firstIndex(of: open) {
            guard start + 1 < bytes.count else { break }
            switch bytes[start + 1] {
            case UInt8(ascii: "!"): return false
            case UInt8(ascii: "?") where start != leading || !bytes[start...].starts(with: Array("<?xml ".utf8)): return false
            default: break
            }
            at = start + 1
        }
        var depth = 0
        var index = 0
        while let start = bytes[index...].firstIndex(of: open) {
            let next = start + 1
            guard next < bytes.count else { return true }  // unterminated: the parser refuses it
            let kind = bytes[next]
            // The tag's end, past any quoted attribute value.
            var end = next
            var quote: UInt8?
            while end < bytes.count {
                let byte = bytes[end]
                // A tag inside a tag, or in an attribute value (no XML allows either): a tag
                // the parser reads differently from this scan.
                if byte == open { return false }
                if let q = quote {
                    if byte == q { quote = nil }
                } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    quote = byte
                } else if byte == close {
                    break
                }
                end += 1
            }
            guard end < bytes.count else { return true }
            switch kind {
            case UInt8(ascii: "?"):
                guard bytes[end - 1] == UInt8(ascii: "?") else { return false }
            case slash:
                depth -= 1
            default:
                if bytes[end - 1] != slash {
                    depth += 1
                    if depth > maximumDepth { return false }
                }
            }
            index = end + 1
        }
        return true
    }

    /// The root element's name (to tell an `<Error>` inside a 200 answer from the result).
    public static func rootElement(_ bytes: [UInt8]) -> String? {
        var index = 0
        while index < bytes.count {
            guard let open = bytes[index...].firstIndex(of: UInt8(ascii: "<")) else { return nil }
            let next = open + 1
            guard next < bytes.count else { return nil }
            if bytes[next] == UInt8(ascii: "?") || bytes[next] == UInt8(ascii: "!") {
                index = next
                continue
            }
            var end = next
            while end < bytes.count, bytes[end] != UInt8(ascii: ">"), bytes[end] != UInt8(ascii: " "),
                  bytes[end] != UInt8(ascii: "/"), bytes[end] != UInt8(ascii: "\n"), bytes[end] != UInt8(ascii: "\t"),
                  bytes[end] != UInt8(ascii: "\r") {
                end += 1
            }
            return String(decoding: bytes[next..<end], as: UTF8.self)
        }
        return nil
    }

    /// Text escaped for XML character data.
    public static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }

    public static func isTrue(_ text: String?) -> Bool {
        text?.trimmingCharacters(in: .whitespaces).lowercased() == "true"
    }
}
