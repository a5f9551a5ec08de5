import Foundation
import XMLCoder

// S3's XML answers, decoded with XMLCoder. Numbers are read as text and converted with checked
// conversions by the client (an oversized or negative number is an unreadable answer, not a trap).

/// `<Error><Code>..</Code><Message>..</Message></Error>`
struct S3ErrorBody: Decodable {
    let code: String?
    let message: String?

    enum CodingKeys: String, CodingKey {
        case code = "Code"
        case message = "Message"
    }
}

/// ListObjectsV2's `<ListBucketResult>`.
struct ListBucketResult: Decodable {
    let isTruncated: String?
    let nextContinuationToken: String?
    let contents: [Contents]?

    struct Contents: Decodable {
        let key: String
        let size: String?
        let etag: String?
        let lastModified: String?

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
struct InitiateMultipartUploadResult: Decodable {
    let uploadID: String

    enum CodingKeys: String, CodingKey {
        case uploadID = "UploadId"
    }
}

/// `<CompleteMultipartUploadResult>` (also `<CopyObjectResult>`: both carry the new ETag).
struct ETagResult: Decodable {
    let etag: String?

    enum CodingKeys: String, CodingKey {
        case etag = "ETag"
    }
}

/// ListMultipartUploads' `<ListMultipartUploadsResult>`.
struct ListMultipartUploadsResult: Decodable {
    let isTruncated: String?
    let nextKeyMarker: String?
    let nextUploadIDMarker: String?
    let uploads: [Upload]?

    struct Upload: Decodable {
        let key: String
        let uploadID: String
        let initiated: String?

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

enum S3XML {
    /// S3's answers nest four elements deep at most (`ListBucketResult/Contents/Owner/ID`).
    static let maximumDepth = 32

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) -> T? {
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
    /// - a processing instruction without data (`<?xm?>`) makes it read a null pointer: only the
    ///   XML declaration may open with `<?`, first in the document;
    /// - elements nested tens of thousands deep overflow the stack in XMLCoder: at most
    ///   `maximumDepth` (S3 nests four deep);
    /// - and no `<!` at all (document types, comments, CDATA): S3 sends none.
    static func isPlainDocument(_ bytes: [UInt8]) -> Bool {
        guard String(validating: bytes, as: UTF8.self) != nil else { return false }
        let open = UInt8(ascii: "<"), close = UInt8(ascii: ">"), slash = UInt8(ascii: "/")
        var depth = 0
        var index = 0
        var first = true
        while let start = bytes[index...].firstIndex(of: open) {
            let next = start + 1
            guard next < bytes.count else { return true }  // unterminated: the parser refuses it
            let kind = bytes[next]
            // The tag's end, past any quoted attribute value.
            var end = next
            var quote: UInt8?
            while end < bytes.count {
                let byte = bytes[end]
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
            case UInt8(ascii: "!"):
                return false
            case UInt8(ascii: "?"):
                let leading = bytes[..<start].allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
                guard first, leading, bytes[next...].starts(with: Array("?xml ".utf8)), bytes[end - 1] == UInt8(ascii: "?") else { return false }
            case slash:
                depth -= 1
            default:
                if bytes[end - 1] != slash {
                    depth += 1
                    if depth > maximumDepth { return false }
                }
            }
            first = false
            index = end + 1
        }
        return true
    }

    /// The root element's name (to tell an `<Error>` inside a 200 answer from the result).
    static func rootElement(_ bytes: [UInt8]) -> String? {
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
    static func escape(_ text: String) -> String {
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

    static func isTrue(_ text: String?) -> Bool {
        text?.trimmingCharacters(in: .whitespaces).lowercased() == "true"
    }
}
