import Crypto
import Foundation
import HoardS3Wire

/// AWS Signature Version 4 (HMAC-SHA256), for S3 requests: header signing (`Authorization`) and
/// query presigning (a GET URL anyone can fetch until it expires).
///
/// Our own rather than libcurl's `CURLOPT_AWS_SIGV4`: libcurl's easy API blocks a thread per
/// request and cannot presign, while AsyncHTTPClient already streams on NIO's event loops.
/// Checked against AWS's published SigV4 test-suite vectors and the S3 presigned-URL example
/// (Tests/HoardS3Tests/SigV4SignerTests.swift).
public struct SigV4Signer: Sendable {
    public let credentials: S3Credentials
    public let region: String
    public let service: String

    /// The payload hash S3 accepts for presigned URLs (the body is not known when signing).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// sha256 of no bytes.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// One request as signed: the path as sent on the wire (already URI-encoded, see
    /// `encodePath`), the query as raw name/value pairs, and the headers to sign (must include
    /// `host` and `x-amz-date`).
    public struct Request: Sendable {
        public var method: String
        public var encodedPath: String
        public var query: [(name: String, value: String)]
        public var headers: [(name: String, value: String)]
        public var payloadHash: String

        public init(method: String, encodedPath: String, query: [(name: String, value: String)] = [],
                    headers: [(name: String, value: String)], payloadHash: String) {
            self.method = method
            self.encodedPath = encodedPath
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    // MARK: Header signing

    /// The `Authorization` header value for `request` made at `date` (which must be the same
    /// instant as its `x-amz-date` header).
    public func authorization(for request: Request, date: Date) -> String {
        let (canonical, signedHeaders) = canonicalRequest(request)
        let signature = signature(stringToSign: stringToSign(canonicalRequest: canonical, date: date), date: date)
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(date)), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    /// The canonical request (AWS's step 1) and the signed-headers list.
    public func canonicalRequest(_ request: Request) -> (canonical: String, signedHeaders: String) {
        // Header names lowercased, values trimmed with inner runs of spaces collapsed; repeated
        // names joined with commas in the order given; sorted by name.
        var merged: [String: [String]] = [:]
        for (name, value) in request.headers {
            merged[name.lowercased(), default: []].append(Self.trimHeaderValue(value))
        }
        let names = merged.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(merged[$0, default: []].joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let canonical = [
            request.method,
            request.encodedPath.isEmpty ? "/" : request.encodedPath,
            Self.canonicalQuery(request.query),
            canonicalHeaders,
            signedHeaders,
            request.payloadHash,
        ].joined(separator: "\n")
        return (canonical, signedHeaders)
    }

    /// The string to sign (AWS's step 2).
    public func stringToSign(canonicalRequest: String, date: Date) -> String {
        let hash = Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8)))
        return "AWS4-HMAC-SHA256\n\(Self.amzDate(date))\n\(scope(date))\n\(hash)"
    }

    /// The signature (AWS's step 3): HMAC chain date -> region -> service -> aws4_request.
    public func signature(stringToSign: String, date: Date) -> String {
        var key = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [Self.dateStamp(date), region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    }

    /// `DATE/REGION/SERVICE/aws4_request`.
    public func scope(_ date: Date) -> String {
        "\(Self.dateStamp(date))/\(region)/\(service)/aws4_request"
    }

    // MARK: Query presigning

    /// The query string (encoded, `X-Amz-Signature` last) that presigns `method encodedPath` on
    /// `host` for `expires` seconds from `date`. Only `host` is signed; the payload is unsigned
    /// (S3's rule for presigned URLs; other services sign the empty payload's hash instead).
    public func presignedQuery(method: String, encodedPath: String, host: String,
                               query: [(name: String, value: String)] = [], expires: Int, date: Date,
                               payloadHash: String = SigV4Signer.unsignedPayload) -> String {
        var parameters = query
        parameters.append(("X-Amz-Algorithm", "AWS4-HMAC-SHA256"))
        parameters.append(("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(date))"))
        parameters.append(("X-Amz-Date", Self.amzDate(date)))
        parameters.append(("X-Amz-Expires", String(expires)))
        if let token = credentials.sessionToken { parameters.append(("X-Amz-Security-Token", token)) }
        parameters.append(("X-Amz-SignedHeaders", "host"))
        let request = Request(method: method, encodedPath: encodedPath, query: parameters,
                              headers: [("host", host)], payloadHash: payloadHash)
        let (canonical, _) = canonicalRequest(request)
        let signature = signature(stringToSign: stringToSign(canonicalRequest: canonical, date: date), date: date)
        return Self.canonicalQuery(parameters) + "&X-Amz-Signature=" + signature
    }

    // MARK: Encoding

    /// The canonical query string: names and values URI-encoded, sorted by name then value.
    public static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        // Encoded text is ASCII, so String order is byte (code point) order, as SigV4 asks.
        var pairs: [(name: String, value: String)] = query.map { (name: uriEncode($0.name), value: uriEncode($0.value)) }
        pairs.sort { (a: (name: String, value: String), b: (name: String, value: String)) -> Bool in
            a.name == b.name ? a.value < b.value : a.name < b.name
        }
        var out = ""
        for (index, pair) in pairs.enumerated() {
            if index > 0 { out += "&" }
            out += pair.name + "=" + pair.value
        }
        return out
    }

    /// URI-encodes per SigV4: every byte except `A-Za-z0-9-._~` as `%XX` (uppercase hex);
    /// `/` too unless `keepSlash` (object keys in paths).
    public static func uriEncode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hexDigits[Int(byte >> 4)])
                out.unicodeScalars.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return out
    }

    /// An S3 object path as sent and signed: each byte encoded once, `/` kept (S3 does not
    /// normalise or double-encode paths, unlike the other AWS services).
    public static func encodePath(_ path: String) -> String {
        uriEncode(path, keepSlash: true)
    }

    static func trimHeaderValue(_ value: String) -> String {
        var out = ""
        var pendingSpace = false
        for character in value.unicodeScalars {
            if character == " " || character == "\t" || character == "\n" || character == "\r" {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.unicodeScalars.append(" ") }
                pendingSpace = false
                out.unicodeScalars.append(character)
            }
        }
        return out
    }

    private static let hexDigits: [UnicodeScalar] = Array("0123456789ABCDEF".unicodeScalars)
    private static let lowerHexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    public static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        var bytes: [UInt8] = []
        for byte in digest {
            bytes.append(lowerHexDigits[Int(byte >> 4)])
            bytes.append(lowerHexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Time

    /// `YYYYMMDD'T'HHMMSS'Z'` in UTC.
    public static func amzDate(_ date: Date) -> String {
        let (y, mo, d, h, mi, s) = UTCTime.components(date)
        return pad(y, 4) + pad(mo, 2) + pad(d, 2) + "T" + pad(h, 2) + pad(mi, 2) + pad(s, 2) + "Z"
    }

    /// `YYYYMMDD` in UTC.
    public static func dateStamp(_ date: Date) -> String {
        let (y, mo, d, _, _, _) = UTCTime.components(date)
        return pad(y, 4) + pad(mo, 2) + pad(d, 2)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
