import Foundation
import HoardConda
import HoardOCI
import HoardStore
import HoardUpstream
import Hummingbird
import Logging
import Testing
@testable import HoardServer

/// The one mapping from a thrown error to a response: the status each error gets, in the format
/// of the front it was thrown in (text for conda and the plain routes, the spec's JSON for OCI).
@Suite struct ErrorResponsesTests {
    let logger = Logger(label: "test")

    struct Expected {
        let status: Int
        var allow: String? = nil
        var contains: String
    }

    func text(_ error: any Error) -> Response { ErrorResponses.response(for: error, front: .conda, path: "/x", logger: logger) }
    func oci(_ error: any Error) -> Response { ErrorResponses.response(for: error, front: .oci, path: "/v2/x", logger: logger) }

    /// The body of a response made from one in-memory buffer.
    func body(_ response: Response) async throws -> String {
        final class Collector: ResponseBodyWriter, @unchecked Sendable {
            var bytes = ByteBuffer()
            func write(_ buffer: ByteBuffer) async throws { var b = buffer; bytes.writeBuffer(&b) }
            func finish(_ trailingHeaders: HTTPFields?) async throws {}
        }
        let collector = Collector()
        try await response.body.write(collector)
        return String(buffer: collector.bytes)
    }

    @Test func condaAndPlainRoutesAnswerInText() async throws {
        let cases: [(any Error, Expected)] = [
            (CondaPathError.dotSegment, Expected(status: 400, contains: "'.' and '..'")),
            (CondaPathError.unknownPath("/fixture"), Expected(status: 404, contains: "no conda channel file")),
            (CondaNameError.invalidSubdir("X"), Expected(status: 404, contains: "invalid subdir")),
            (UnknownChannel(name: "nope", served: ["b", "a"]), Expected(status: 404, contains: "unknown channel 'nope'; this hoard serves: a, b")),
            (MethodNotAllowed(allow: "GET, HEAD"), Expected(status: 405, allow: "GET, HEAD", contains: "allowed: GET, HEAD")),
            (MethodNotImplemented(method: "PROPFIND"), Expected(status: 501, contains: "PROPFIND")),
            (UpstreamError.status(url: "u", code: 404), Expected(status: 404, contains: "not found upstream")),
            (UpstreamError.status(url: "u", code: 500), Expected(status: 502, contains: "answered HTTP 500")),
            (UpstreamError.timedOut(url: "u", after: .seconds(3)), Expected(status: 504, contains: "did not answer")),
            (UpstreamError.busy(url: "u", limit: 2, waited: .seconds(3)), Expected(status: 504, contains: "upstream request slots")),
            (StoreError.diskFull(path: "/s"), Expected(status: 503, contains: "cache disk is full")),
            (StoreError.writerClosed, Expected(status: 500, contains: "internal error")),
            (FillError.endedWithoutHead(key: "k"), Expected(status: 500, contains: "internal error")),
        ]
        for (error, expected) in cases {
            let response = text(error)
            #expect(Int(response.status.code) == expected.status, "\(error)")
            #expect(response.headers[.contentType] == "text/plain; charset=utf-8", "\(error)")
            #expect(response.headers[.allow] == expected.allow, "\(error)")
            #expect(try await body(response).contains(expected.contains), "\(error)")
            // The plain routes (/healthz, /token, unknown paths) answer alike.
            #expect(ErrorResponses.response(for: error, front: .plain, path: "/x", logger: logger).status == response.status)
        }
    }

    @Test func ociAnswersWithTheSpecsJSONBody() async throws {
        let cases: [(any Error, Expected)] = [
            (OCIError(.manifestUnknown, "m"), Expected(status: 404, contains: "\"code\":\"MANIFEST_UNKNOWN\"")),
            (OCIRouteError.methodNotAllowed("PATCH", allowed: ["GET", "HEAD"], path: "/v2/"),
             Expected(status: 405, allow: "GET, HEAD", contains: "\"code\":\"UNSUPPORTED\"")),
            (OCIRouteError.malformedEncoding("/v2/%zz"), Expected(status: 400, contains: "NAME_INVALID")),
            (StoreError.digestMismatch(expected: try BlobDigest(parsing: "sha256:" + String(repeating: "a", count: 64)),
                                       actual: try BlobDigest(parsing: "sha256:" + String(repeating: "b", count: 64))),
             Expected(status: 400, contains: "DIGEST_INVALID")),
            (StoreError.diskFull(path: "/s"), Expected(status: 507, contains: "no space left")),
            (UpstreamError.status(url: "u", code: 404), Expected(status: 404, contains: "NAME_UNKNOWN")),
            (UpstreamError.status(url: "u", code: 500), Expected(status: 502, contains: "UNSUPPORTED")),
            (UpstreamError.timedOut(url: "u", after: .seconds(3)), Expected(status: 504, contains: "UNSUPPORTED")),
            (FillError.endedWithoutHead(key: "k"), Expected(status: 500, contains: "internal error")),
        ]
        for (error, expected) in cases {
            let response = oci(error)
            #expect(Int(response.status.code) == expected.status, "\(error)")
            #expect(response.headers[.contentType] == "application/json", "\(error)")
            #expect(response.headers[.init("Docker-Distribution-API-Version")!] == "registry/2.0", "\(error)")
            #expect(response.headers[.allow] == expected.allow, "\(error)")
            let text = try await body(response)
            #expect(text.hasPrefix("{\"errors\":[{"), "\(error)")
            #expect(text.contains(expected.contains), "\(error): \(text)")
            #expect(response.headers[.contentLength] == String(text.utf8.count), "\(error)")
        }
    }

    @Test func ociAuthFailuresCarryTheirChallengeAndRetryAfter() {
        let challenge = OCIAuthFailure(error: OCIError(.unauthorized), challenge: "Basic realm=\"hoard\"")
        let response = oci(challenge)
        #expect(response.status == .unauthorized)
        #expect(response.headers[.wwwAuthenticate] == "Basic realm=\"hoard\"")
        let limited = oci(OCIAuthFailure(error: OCIError(.tooManyRequests), challenge: nil, retryAfter: 42))
        #expect(limited.status == .tooManyRequests)
        #expect(limited.headers[.retryAfter] == "42")
        #expect(limited.headers[.wwwAuthenticate] == nil)
    }

    /// An unreachable bucket is a 503 with Retry-After on every front, never a 500: the request
    /// works again once the bucket is back.
    @Test func unavailableStorageIsA503WithRetryAfter() async throws {
        let error = StoreError.unavailable(backend: "s3://bucket/prefix", reason: "connection refused")
        for front in [Front.conda, .plain, .oci] {
            let response = ErrorResponses.response(for: error, front: front, path: "/x", logger: logger)
            #expect(response.status == .serviceUnavailable, "\(front)")
            #expect(response.headers[.retryAfter] == "5", "\(front)")
            let text = try await body(response)
            #expect(text.contains("cannot reach its storage"), "\(front): \(text)")
            #expect(text.contains("connection refused"), "\(front): \(text)")
            if front == .oci { #expect(text.hasPrefix("{\"errors\":[{\"code\":\"UNSUPPORTED\""), "\(text)") }
        }
    }
}
