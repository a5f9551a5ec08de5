import HoardOCI
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// OCI blobs answer through the same serving decision as conda packages: conditional GET on the
/// digest ETag, If-Range, and one Range semantics.
@Suite struct OCIBlobConditionalTests {
    let dockerContentDigest = HTTPFields.Element.Name("Docker-Content-Digest")!

    @Test func conditionalGetAndIfRange() async throws {
        let server = try OCITestServer()
        defer { server.remove() }
        try await server.run { client, _ in
            let bytes = randomBytes(10_000)
            let digest = try await client.pushBlob("team/app", bytes)
            let path = "/v2/team/app/blobs/\(digest)"
            let etag = "\"\(digest)\""

            let get = try await client.send(.get, path, auth: nil)
            #expect(get.status == .ok && get.headers[.eTag] == etag)

            for method: HTTPRequest.Method in [.get, .head] {
                let cached = try await client.send(method, path, headers: [.ifNoneMatch: etag], auth: nil)
                #expect(cached.status == .notModified, "\(method)")
                #expect(cached.body.readableBytes == 0)
                #expect(cached.headers[.eTag] == etag && cached.headers[dockerContentDigest] == digest)
            }
            #expect(try await client.send(.get, path, headers: [.ifNoneMatch: "\"sha256:other\""], auth: nil).status == .ok)

            // If-Range: a resumed download continues only while the blob is the one it started.
            let resumed = try await client.send(.get, path, headers: [.range: "bytes=9000-", .ifRange: etag], auth: nil)
            #expect(resumed.status == .partialContent && Array(buffer: resumed.body) == Array(bytes[9000...]))
            let stale = try await client.send(.get, path, headers: [.range: "bytes=9000-", .ifRange: "\"sha256:other\""], auth: nil)
            #expect(stale.status == .ok && Array(buffer: stale.body) == bytes)

            // HEAD answers what GET would, Range included.
            let head = try await client.send(.head, path, headers: [.range: "bytes=0-99"], auth: nil)
            #expect(head.status == .partialContent && head.headers[.contentLength] == "100" && head.body.readableBytes == 0)
            #expect(head.headers[.contentRange] == "bytes 0-99/10000")

            // Several ranges of which none is satisfiable: 416, with the spec's JSON error, also for HEAD.
            let none = try await client.send(.get, path, headers: [.range: "bytes=20000-,30000-40000"], auth: nil)
            #expect(none.status == .rangeNotSatisfiable && errorCode(none) == "BLOB_UNKNOWN")
            #expect(none.headers[.contentRange] == "bytes */10000")
            let headNone = try await client.send(.head, path, headers: [.range: "bytes=20000-"], auth: nil)
            #expect(headNone.status == .rangeNotSatisfiable && headNone.body.readableBytes == 0)
        }
    }
}
