import Foundation
import HoardOCI
import HoardServer
import HoardStore
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite struct OCIUploadTests {
    @Test func chunkedUploadRefusesOutOfOrderChunks() async throws {
        let server = try OCITestServer()
        defer { server.remove() }
        try await server.run { client, _ in
            let bytes = randomBytes(30)
            let start = try await client.send(.post, "/v2/r/blobs/uploads/")
            #expect(start.status == .accepted)
            #expect(start.headers[.range] == "0-0")
            let location = try #require(start.headers[.location])
            #expect(location.hasPrefix("/v2/r/blobs/uploads/"))

            let first = try await client.send(.patch, location, headers: [.contentRange: "0-9"], body: Array(bytes[0..<10]))
            #expect(first.status == .accepted)
            #expect(first.headers[.range] == "0-9")
            let skip = try await client.send(.patch, location, headers: [.contentRange: "20-29"], body: Array(bytes[20..<30]))
            #expect(skip.status == .rangeNotSatisfiable)
            #expect(skip.headers[.range] == "0-9")
            let status = try await client.send(.get, location)
            #expect(status.status == .noContent && status.headers[.range] == "0-9")
            #expect(try await client.send(.patch, location, headers: [.contentRange: "10-19"], body: Array(bytes[10..<20])).status == .accepted)

            // The closing PUT carries the last chunk.
            let digest = OCIDigest.compute(.sha256, of: bytes).description
            let put = try await client.send(.put, location + "?digest=" + digest, headers: [.contentRange: "20-29"], body: Array(bytes[20..<30]))
            #expect(put.status == .created)
            #expect(put.headers[.location] == "/v2/r/blobs/\(digest)")
            let get = try await client.send(.get, "/v2/r/blobs/\(digest)", auth: nil)
            #expect(Array(buffer: get.body) == bytes)
            // The session is gone once closed.
            #expect(try await client.send(.get, location).status == .notFound)
        }
    }

    @Test func digestMismatchStoresNothing() async throws {
        let server = try OCITestServer()
        defer { server.remove() }
        try await server.run { client, store in
            let bytes = randomBytes(1000)
            let wrong = OCIDigest.compute(.sha256, of: Array("other".utf8)).description
            let post = try await client.send(.post, "/v2/r/blobs/uploads/?digest=\(wrong)", body: bytes)
            #expect(post.status == .badRequest && errorCode(post) == "DIGEST_INVALID")

            let start = try await client.send(.post, "/v2/r/blobs/uploads/")
            let location = try #require(start.headers[.location])
            _ = try await client.send(.patch, location, body: bytes)
            let put = try await client.send(.put, location + "?digest=" + wrong)
            #expect(put.status == .badRequest && errorCode(put) == "DIGEST_INVALID")
            let wrong512 = OCIDigest.compute(.sha512, of: Array("other".utf8)).description
            let post512 = try await client.send(.post, "/v2/r/blobs/uploads/?digest=\(wrong512)", body: bytes)
            #expect(post512.status == .badRequest && errorCode(post512) == "DIGEST_INVALID")

            #expect(try await store.totals().count == 0)
            #expect(try await client.send(.head, "/v2/r/blobs/\(OCIDigest.compute(.sha256, of: bytes))", auth: nil).status == .notFound)
            #expect(try FileManager.default.contentsOfDirectory(atPath: store.layout.ingestDirectory).isEmpty)
        }
    }

    @Test func mountFromAnotherRepository() async throws {
        let server = try OCITestServer()
        defer { server.remove() }
        try await server.run { client, _ in
            let digest = try await client.pushBlob("a", randomBytes(100))
            let mounted = try await client.send(.post, "/v2/b/blobs/uploads/?mount=\(digest)&from=a")
            #expect(mounted.status == .created)
            #expect(try await client.send(.head, "/v2/b/blobs/\(digest)", auth: nil).status == .ok)
            // A source that lacks the blob: an ordinary upload session instead.
            let missing = OCIDigest.compute(.sha256, of: randomBytes(10)).description
            let fallback = try await client.send(.post, "/v2/b/blobs/uploads/?mount=\(missing)&from=a")
            #expect(fallback.status == .accepted && fallback.headers[.location] != nil)
            // Cancel it.
            #expect(try await client.send(.delete, fallback.headers[.location]!).status == .noContent)
            #expect(try await client.send(.get, fallback.headers[.location]!).status == .notFound)
        }
    }

    @Test func uploadSessionsSurviveARestart() async throws {
        let server = try OCITestServer()
        defer { server.remove() }
        let bytes = randomBytes(64)
        let location = try await server.run { client, _ in
            let start = try await client.send(.post, "/v2/r/blobs/uploads/")
            let location = try #require(start.headers[.location])
            #expect(try await client.send(.patch, location, headers: [.contentRange: "0-31"], body: Array(bytes[0..<32])).status == .accepted)
            return location
        }
        // A new process-equivalent: the store is reopened and a new front serves it.
        try await server.run { client, _ in
            let status = try await client.send(.get, location)
            #expect(status.status == .noContent && status.headers[.range] == "0-31")
            let digest = OCIDigest.compute(.sha256, of: bytes).description
            let put = try await client.send(.put, location + "?digest=" + digest, headers: [.contentRange: "32-63"], body: Array(bytes[32...]))
            #expect(put.status == .created)
            #expect(Array(buffer: try await client.send(.get, "/v2/r/blobs/\(digest)", auth: nil).body) == bytes)
        }
    }

    /// The OCI front knows upload sessions only through the store's `BlobUploads`: on the memory
    /// backend chunked and monolithic uploads (sha256 and sha512) work without a file.
    @Test func uploadsWorkOnTheMemoryBackend() async throws {
        var server = try OCITestServer()
        server.memoryBlobs = MemoryBlobStore()
        defer { server.remove() }
        let bytes = randomBytes(3000)
        let location = try await server.run { client, store in
            for algorithm in [OCIDigest.Algorithm.sha256, .sha512] {
                let digest = OCIDigest.compute(algorithm, of: bytes).description
                let start = try await client.send(.post, "/v2/r/blobs/uploads/")
                let location = try #require(start.headers[.location])
                #expect(try await client.send(.patch, location, headers: [.contentRange: "0-999"], body: Array(bytes[0..<1000])).status == .accepted)
                #expect(try await client.send(.patch, location, headers: [.contentRange: "1000-1999"], body: Array(bytes[1000..<2000])).status == .accepted)
                let status = try await client.send(.get, location)
                #expect(status.status == .noContent && status.headers[.range] == "0-1999")
                let put = try await client.send(.put, location + "?digest=" + digest, headers: [.contentRange: "2000-2999"], body: Array(bytes[2000...]))
                #expect(put.status == .created)
                #expect(Array(buffer: try await client.send(.get, "/v2/r/blobs/\(digest)", auth: nil).body) == bytes)
                #expect(try await client.send(.get, location).status == .notFound)
            }
            // A wrong sha512 over chunks stores nothing and ends the session.
            let other = randomBytes(10)
            let start = try await client.send(.post, "/v2/r/blobs/uploads/")
            let wrongLocation = try #require(start.headers[.location])
            _ = try await client.send(.patch, wrongLocation, body: other)
            let wrong = OCIDigest.compute(.sha512, of: bytes).description
            let refused = try await client.send(.put, wrongLocation + "?digest=" + wrong)
            #expect(refused.status == .badRequest && errorCode(refused) == "DIGEST_INVALID")
            #expect(try await store.blobs.size(of: BlobDigest.of(other)) == nil)

            // Nothing of the sessions was ever a file.
            #expect(!FileManager.default.fileExists(atPath: store.layout.uploadsDirectory))
            let open = try await client.send(.post, "/v2/r/blobs/uploads/")
            let location = try #require(open.headers[.location])
            #expect(try await client.send(.patch, location, headers: [.contentRange: "0-9"], body: Array(bytes[0..<10])).status == .accepted)
            return location
        }
        // The same (memory) backend behind a new front: the session is still there.
        try await server.run { client, _ in
            let status = try await client.send(.get, location)
            #expect(status.status == .noContent && status.headers[.range] == "0-9")
        }
    }
}
