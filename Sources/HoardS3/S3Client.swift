import AsyncHTTPClient
import Crypto
import Foundation
import HoardHTTP
import HoardS3Wire
import Logging
import NIOCore
import NIOHTTP1

/// An S3 client over one shared AsyncHTTPClient: objects, conditional writes, multipart uploads,
/// listings and presigned GETs, signed with our own `SigV4Signer`. Keys are relative to the
/// location's prefix. Every failure is an `S3Error`; transport failures and 5xx answers map to
/// `StoreError.unavailable` (`S3Error.storeError`).
public final class S3Client: Sendable {
    public let location: S3Location
    let signer: SigV4Signer
    let httpClient: HTTPClient
    let logger: Logger
    /// How long a request may take until the answer's head arrives (bodies stream on after it).
    let timeout: TimeAmount
    /// The most an error or result XML body may take (they are a few hundred bytes; a listing
    /// page of 1,000 keys is well under 1 MiB).
    static let xmlLimit = 8 << 20

    public convenience init(location: S3Location, credentials: S3Credentials, httpClient: HTTPClient, logger: Logger) {
        self.init(location: location, credentials: credentials, httpClient: httpClient, logger: logger, timeout: .seconds(60))
    }

    public init(location: S3Location, credentials: S3Credentials, httpClient: HTTPClient, logger: Logger, timeout: TimeAmount) {
        self.location = location
        self.signer = SigV4Signer(credentials: credentials, region: location.region)
        self.httpClient = httpClient
        self.logger = logger
        self.timeout = timeout
    }

    // MARK: Objects

    /// The object's size and ETag, or nil when there is none.
    public func head(_ key: String) async throws(S3Error) -> S3ObjectInfo? {
        let response = try await send("HEAD", method: .HEAD, key: key)
        switch response.status.code {
        case 200:
            return try Self.info("HEAD", response.headers, sizeFrom: .contentLength)
        case 404:
            return nil
        default:
            throw await failure("HEAD", key: key, response)
        }
    }

    /// Streams the body (range: first...last byte, inclusive) without buffering it whole; nil when absent.
    public func get(_ key: String, range: ClosedRange<Int64>? = nil) async throws(S3Error) -> S3Download? {
        var headers: [(String, String)] = []
        if let range {
            guard range.lowerBound >= 0 else { throw .invalidArgument("a byte range cannot start before 0") }
            headers.append(("range", "bytes=\(range.lowerBound)-\(range.upperBound)"))
        }
        let response = try await send("GET", method: .GET, key: key, headers: headers)
        switch response.status.code {
        case 200:
            let info = try Self.info("GET", response.headers, sizeFrom: .contentLength)
            return S3Download(info: info, contentLength: info.size, range: nil, body: response.body)
        case 206:
            guard let header = response.headers.first(name: "content-range"),
                  let contentRange = try? ContentRange(header: header), let total = contentRange.completeLength else {
                throw .invalidResponse(operation: "GET", reason: "a 206 answer without a usable Content-Range")
            }
            let info = try Self.info("GET", response.headers, size: total)
            return S3Download(info: info, contentLength: contentRange.length,
                              range: contentRange.start...contentRange.end, body: response.body)
        case 404:
            await Self.drain(response)
            return nil
        default:
            throw await failure("GET", key: key, response)
        }
    }

    /// The whole object in memory (for small objects: shared index records, upload state); nil when absent.
    /// Fails with `.tooLarge` when the object holds more than `limit` bytes.
    public func getBytes(_ key: String, limit: Int) async throws(S3Error) -> (bytes: [UInt8], info: S3ObjectInfo)? {
        guard let download = try await get(key) else { return nil }
        guard download.contentLength <= Int64(limit) else {
            throw .tooLarge(key: key, size: download.contentLength, limit: limit)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await download.body.collect(upTo: limit)
        } catch {
            throw .transport(operation: "GET", endpoint: location.endpoint, reason: Self.describe(error))
        }
        guard Int64(buffer.readableBytes) == download.contentLength else {
            throw .invalidResponse(operation: "GET", reason: "\(buffer.readableBytes) bytes where Content-Length said \(download.contentLength)")
        }
        return (Array(buffer.readableBytesView), download.info)
    }

    /// Writes the object; returns its ETag, or nil when the condition failed (412, or 409
    /// ConditionalRequestConflict): nothing was written then.
    public func put(_ key: String, body: ByteBuffer, contentType: String? = nil, condition: S3Condition = .none) async throws(S3Error) -> String? {
        var headers = Self.conditionHeaders(condition)
        headers.append(("content-type", contentType ?? "application/octet-stream"))
        let response = try await send("PUT", method: .PUT, key: key, headers: headers, body: body)
        switch response.status.code {
        case 200, 201:
            await Self.drain(response)
            return try Self.etag("PUT", response.headers)
        default:
            let error = await failure("PUT", key: key, response)
            if Self.conditionFailed(error, condition) { return nil }
            throw error
        }
    }

    /// Removes the object; removing an absent object is not an error.
    public func delete(_ key: String) async throws(S3Error) {
        let response = try await send("DELETE", method: .DELETE, key: key)
        switch response.status.code {
        case 200, 204, 404:
            await Self.drain(response)
        default:
            throw await failure("DELETE", key: key, response)
        }
    }

    /// Copies `source` to `destination` inside the bucket (server side); returns the new ETag,
    /// or nil when the condition on the destination failed. Sources over S3's 5 GiB limit for
    /// one CopyObject are copied in parts (`copyInParts`).
    public func copy(from source: String, to destination: String, condition: S3Condition = .none) async throws(S3Error) -> String? {
        do {
            return try await copyObject(from: source, to: destination, condition: condition)
        } catch {
            // S3 refuses a source over 5 GiB with InvalidRequest; only then is a HEAD worth it.
            guard case .server(_, _, _, let code, _) = error, code == "InvalidRequest" || code == "EntityTooLarge",
                  let info = try await head(source), info.size > Self.singleCopyLimit else { throw error }
            return try await copyInParts(from: source, to: destination, size: info.size, condition: condition)
        }
    }

    /// One CopyObject request.
    func copyObject(from source: String, to destination: String, condition: S3Condition) async throws(S3Error) -> String? {
        var headers = Self.conditionHeaders(condition)
        headers.append(("x-amz-copy-source", "/" + location.bucket + "/" + SigV4Signer.encodePath(try objectKey(source))))
        let response = try await send("COPY", method: .PUT, key: destination, headers: headers)
        switch response.status.code {
        case 200:
            // An error can arrive in a 200 answer once the copy has started.
            let bytes = try await collectXML("COPY", response)
            if let error = Self.embeddedError("COPY", key: destination, bytes) {
                if Self.conditionFailed(error, condition) { return nil }
                throw error
            }
            if let etag = S3XML.decode(ETagResult.self, bytes)?.etag, !etag.isEmpty { return etag }
            return try Self.etag("COPY", response.headers)
        default:
            let error = await failure("COPY", key: destination, response)
            if Self.conditionFailed(error, condition) { return nil }
            throw error
        }
    }

    /// A URL that GETs the object without credentials until `expires` seconds from now
    /// (1...604800, S3's limit of 7 days).
    public func presignedGET(_ key: String, expires: Int) throws(S3Error) -> String {
        try presignedGET(key, expires: expires, date: Date())
    }

    /// `presignedGET` at a given instant (tests compare with AWS's documented example).
    public func presignedGET(_ key: String, expires: Int, date: Date) throws(S3Error) -> String {
        guard (1...604_800).contains(expires) else {
            throw .invalidArgument("a presigned URL expires after 1 to 604800 seconds, not \(expires)")
        }
        let path = try encodedPath(key)
        let query = signer.presignedQuery(method: "GET", encodedPath: path, host: location.authority, expires: expires, date: date)
        return "\(location.scheme)://\(location.authority)\(path)?\(query)"
    }

    // MARK: Requests

    enum SizeSource { case contentLength }

    /// The full object key, refusing keys S3 cannot take.
    func objectKey(_ key: String) throws(S3Error) -> String {
        guard !key.isEmpty, !key.hasPrefix("/") else { throw .invalidArgument("S3 key '\(key)' is empty or starts with /") }
        let full = location.objectKey(key)
        guard full.utf8.count <= 1024 else { throw .invalidArgument("S3 key '\(full.prefix(80))...' is longer than 1024 bytes") }
        return full
    }

    /// The request path (encoded) for an object key, or the bucket itself for nil.
    func encodedPath(_ key: String?) throws(S3Error) -> String {
        let objectPath = try key.map { (key: String) throws(S3Error) -> String in SigV4Signer.encodePath(try objectKey(key)) }
        if location.pathStyle {
            return location.endpointPath + "/" + location.bucket + (objectPath.map { "/" + $0 } ?? "")
        }
        return location.endpointPath + "/" + (objectPath ?? "")
    }

    /// Delays before sending a request again that S3 answered 500, 502, 503 or 504 ("InternalError",
    /// "SlowDown"): three tries in all, as AWS's SDKs do in their standard mode. S3 answers them now
    /// and then, and so does moto to concurrent conditional PUTs of one key. A request that did not
    /// connect is not retried: an outage is answered 503 at once.
    static let retryDelays: [Duration] = [.milliseconds(100), .milliseconds(500)]

    /// Signs and sends one request, again (signed anew) after a retryable answer; the answer's
    /// head is back when this returns.
    func send(_ operation: String, method: HTTPMethod, key: String?, query: [(name: String, value: String)] = [],
              headers extra: [(String, String)] = [], body: ByteBuffer? = nil) async throws(S3Error) -> HTTPClientResponse {
        for delay in Self.retryDelays {
            let response = try await sendOnce(operation, method: method, key: key, query: query, headers: extra, body: body)
            guard [500, 502, 503, 504].contains(response.status.code) else { return response }
            logger.debug("S3 asked to retry", metadata: ["operation": "\(operation)", "status": "\(response.status.code)"])
            await Self.drain(response)
            try? await Task.sleep(for: delay)
        }
        return try await sendOnce(operation, method: method, key: key, query: query, headers: extra, body: body)
    }

    private func sendOnce(_ operation: String, method: HTTPMethod, key: String?, query: [(name: String, value: String)],
                          headers extra: [(String, String)], body: ByteBuffer?) async throws(S3Error) -> HTTPClientResponse {
        let path = try encodedPath(key)
        let date = Date()
        let payloadHash = body.map { buffer in
            buffer.withUnsafeReadableBytes { SigV4Signer.hex(SHA256.hash(data: $0)) }
        } ?? SigV4Signer.emptyPayloadHash
        var signed: [(name: String, value: String)] = [
            ("host", location.authority),
            ("x-amz-date", SigV4Signer.amzDate(date)),
            ("x-amz-content-sha256", payloadHash),
        ]
        if let token = signer.credentials.sessionToken { signed.append(("x-amz-security-token", token)) }
        for (name, value) in extra { signed.append((name, value)) }
        let authorization = signer.authorization(
            for: SigV4Signer.Request(method: method.rawValue, encodedPath: path, query: query, headers: signed, payloadHash: payloadHash),
            date: date)

        var url = "\(location.scheme)://\(location.authority)\(path)"
        if !query.isEmpty { url += "?" + Self.wireQuery(query) }
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in signed { request.headers.add(name: name, value: value) }
        request.headers.add(name: "authorization", value: authorization)
        if let body {
            request.body = .bytes(body)
        } else if method == .PUT || method == .POST {
            request.headers.add(name: "content-length", value: "0")
        }
        logger.trace("S3 request", metadata: ["operation": "\(operation)", "method": "\(method.rawValue)", "path": "\(path)"])
        do {
            return try await httpClient.execute(request, timeout: timeout, logger: logger)
        } catch {
            logger.debug("S3 request failed", metadata: ["operation": "\(operation)", "error": "\(error)"])
            throw .transport(operation: operation, endpoint: location.endpoint, reason: Self.describe(error))
        }
    }

    /// The query as sent: same encoding as signed; a subresource without value (`uploads`) bare.
    static func wireQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { $0.value.isEmpty ? SigV4Signer.uriEncode($0.name) : SigV4Signer.uriEncode($0.name) + "=" + SigV4Signer.uriEncode($0.value) }
            .joined(separator: "&")
    }

    static func conditionHeaders(_ condition: S3Condition) -> [(String, String)] {
        switch condition {
        case .none: return []
        case .ifNoneMatchAny: return [("if-none-match", "*")]
        case .ifMatch(let etag): return [("if-match", etag)]
        }
    }

    /// Whether `error` says a write's condition failed (nothing was written).
    static func conditionFailed(_ error: S3Error, _ condition: S3Condition) -> Bool {
        guard case .server(_, _, let status, let code, _) = error else { return false }
        if condition == .none { return false }
        if status == 412 || code == "PreconditionFailed" || code == "ConditionalRequestConflict" { return true }
        // If-Match on an object that is gone: the compare-and-swap lost too.
        if case .ifMatch = condition, status == 404, code == nil || code == "NoSuchKey" { return true }
        return false
    }

    /// The error an answer with an unexpected status stands for, with the code and message of its `<Error>` body.
    func failure(_ operation: String, key: String?, _ response: HTTPClientResponse) async -> S3Error {
        var code: String?
        var message: String?
        if let buffer = try? await response.body.collect(upTo: 1 << 20), buffer.readableBytes > 0,
           let body = S3XML.decode(S3ErrorBody.self, Array(buffer.readableBytesView)) {
            code = body.code
            message = body.message
        }
        if code == nil, response.status.code == 404, operation == "HEAD" { code = "NoSuchKey" }
        let error = S3Error.server(operation: operation, key: key, status: Int(response.status.code), code: code, message: message)
        logger.debug("S3 answered an error", metadata: ["error": "\(error)"])
        return error
    }

    /// An `<Error>` document inside a 200 answer (CompleteMultipartUpload, CopyObject).
    static func embeddedError(_ operation: String, key: String?, _ bytes: [UInt8]) -> S3Error? {
        guard S3XML.rootElement(bytes) == "Error" else { return nil }
        let body = S3XML.decode(S3ErrorBody.self, bytes)
        return .server(operation: operation, key: key, status: 200, code: body?.code, message: body?.message)
    }

    /// A result document, bounded.
    func collectXML(_ operation: String, _ response: HTTPClientResponse) async throws(S3Error) -> [UInt8] {
        do {
            return Array(try await response.body.collect(upTo: Self.xmlLimit).readableBytesView)
        } catch {
            throw .transport(operation: operation, endpoint: location.endpoint, reason: Self.describe(error))
        }
    }

    /// Reads and drops a (small) body so the connection can be reused.
    static func drain(_ response: HTTPClientResponse) async {
        _ = try? await response.body.collect(upTo: 1 << 20)
    }

    static func etag(_ operation: String, _ headers: HTTPHeaders) throws(S3Error) -> String {
        guard let etag = headers.first(name: "etag"), !etag.isEmpty else {
            throw .invalidResponse(operation: operation, reason: "no ETag header")
        }
        return etag
    }

    static func info(_ operation: String, _ headers: HTTPHeaders, sizeFrom: SizeSource) throws(S3Error) -> S3ObjectInfo {
        guard let text = headers.first(name: "content-length"), let size = S3Number.nonNegative(text) else {
            throw .invalidResponse(operation: operation, reason: "no usable Content-Length")
        }
        return try info(operation, headers, size: size)
    }

    static func info(_ operation: String, _ headers: HTTPHeaders, size: Int64) throws(S3Error) -> S3ObjectInfo {
        let lastModified = headers.first(name: "last-modified").flatMap(HTTPDate.parse).map { Date(timeIntervalSince1970: $0) }
        return S3ObjectInfo(size: size, etag: try etag(operation, headers), lastModified: lastModified)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            return "\(error)"
        }
        return String(describing: error)
    }
}

