// Tests of the S3 client against moto and SeaweedFS (see HoardS3TestSupport).
import AsyncHTTPClient
import Crypto
import Foundation
import HoardS3
import HoardS3TestSupport
import HoardStore
import NIOCore
import Testing

/// The client against real servers: moto (no signature checks) and SeaweedFS (checks SigV4).
/// Each server starts once per test process; each test has its own bucket.
struct S3ClientTests {
    static let kinds = S3TestServer.Kind.allCases

    func bucket(_ kind: S3TestServer.Kind) async throws -> (S3TestServer, S3Client) {
        let server = try await S3TestServer.shared(kind)
        let location = try await server.makeLocation()
        return (server, server.client(for: location))
    }

    static func bytes(_ count: Int, seed: UInt8 = 7) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    static func collect(_ download: S3Download) async throws -> [UInt8] {
        var out: [UInt8] = []
        for try await chunk in download.body { out += chunk.readableBytesView }
        return out
    }

    @Test(arguments: kinds)
    func putGetHeadDelete(_ kind: S3TestServer.Kind) async throws {
        let (_, client) = try await bucket(kind)
        let body = Self.bytes(100_000)
        let etag = try #require(try await client.put("objects/a", body: ByteBuffer(bytes: body), contentType: "application/x-test"))
        let info = try #require(try await client.head("objects/a"))
        #expect(info.size == 100_000)
        #expect(info.etag == etag)
        #expect(info.lastModified != nil)

        let download = try #require(try await client.get("objects/a"))
        #expect(download.info.size == 100_000)
        #expect(download.contentLength == 100_000)
        #expect(download.range == nil)
        #expect(try await Self.collect(download) == body)

        let small = try #require(try await client.getBytes("objects/a", limit: 1 << 20))
        #expect(small.bytes == body)
        #expect(small.info.etag == etag)
        await #expect(throws: S3Error.tooLarge(key: "objects/a", size: 100_000, limit: 10)) {
            _ = try await client.getBytes("objects/a", limit: 10)
        }

        // An empty object.
        #expect(try await client.put("objects/empty", body: ByteBuffer()) != nil)
        #expect(try await client.getBytes("objects/empty", limit: 10)?.bytes == [])

        try await client.delete("objects/a")
        #expect(try await client.head("objects/a") == nil)
        #expect(try await client.get("objects/a") == nil)
        #expect(try await client.getBytes("objects/a", limit: 10) == nil)
        // Deleting what is gone is fine.
        try await client.delete("objects/a")
    }

    @Test(arguments: kinds)
    func ranges(_ kind: S3TestServer.Kind) async throws {
        let (_, client) = try await bucket(kind)
        let body = Self.bytes(10_000, seed: 3)
        _ = try await client.put("r", body: ByteBuffer(bytes: body))
        let middle = try #require(try await client.get("r", range: 1000...1999))
        #expect(middle.info.size == 10_000)
        #expect(middle.contentLength == 1000)
        #expect(middle.range == 1000...1999)
        #expect(try await Self.collect(middle) == Array(body[1000...1999]))

        let last = try #require(try await client.get("r", range: 9_999...9_999))
        #expect(try await Self.collect(last) == [body[9_999]])

        // A range running past the end is cut to the object, as HTTP says.
        let tail = try #require(try await client.get("r", range: 9_000...20_000))
        #expect(tail.range == 9_000...9_999)
        #expect(try await Self.collect(tail) == Array(body[9_000...]))

        // A range starting past the end is refused (416), not a trap or a silent empty body.
        await #expect(throws: S3Error.self) { _ = try await client.get("r", range: 20_000...20_001) }
    }

    @Test(arguments: kinds)
    func conditionalCreate(_ kind: S3TestServer.Kind) async throws {
        let (_, client) = try await bucket(kind)
        let first = try await client.put("once", body: ByteBuffer(string: "first"), condition: .ifNoneMatchAny)
        #expect(first != nil)
        let second = try await client.put("once", body: ByteBuffer(string: "second"), condition: .ifNoneMatchAny)
        #expect(second == nil, "a second If-None-Match: * create must lose")
        #expect(try await client.getBytes("once", limit: 100)?.bytes == Array("first".utf8))
    }

    @Test(arguments: kinds)
    func compareAndSwap(_ kind: S3TestServer.Kind) async throws {
        let (_, client) = try await bucket(kind)
        let v1 = try #require(try await client.put("cas", body: ByteBuffer(string: "v1")))
        let v2 = try #require(try await client.put("cas", body: ByteBuffer(string: "v2"), condition: .ifMatch(v1)))
        #expect(v2 != v1)
        // A writer still holding v1 loses.
        #expect(try await client.put("cas", body: ByteBuffer(string: "stale"), condition: .ifMatch(v1)) == nil)
        #expect(try await client.getBytes("cas", limit: 100)?.bytes == Array("v2".utf8))
        // If-Match on an object that is gone loses too.
        try await client.delete("cas")
        #expect(try await client.put("cas", body: ByteBuffer(string: "ghost"), condition: .ifMatch(v2)) == nil)
        #expect(try await client.head("cas") == nil)
    }

    @Test(arguments: kinds)
    func multipartWithConditionalComplete(_ kind: S3TestServer.Kind) async throws {
        let (_, client) = try await bucket(kind)
        let part1 = Self.bytes(5 << 20, seed: 1)
        let part2 = Self.bytes(1234, seed: 2)
        let upload = try await client.createMultipartUpload("blobs/big")
        // Nothing is visible before completion.
        #expect(try await client.head("blobs/big") == nil)
        let uploads = try await client.listMultipartUploads(prefix: "blobs/")
        #expect(uploads.contains { $0.key == "blobs/big" && $0.uploadID == upload })

        let e1 = try await client.uploadPart("blobs/big", uploadID: upload, partNumber: 1, body: ByteBuffer(bytes: part1))
        let e2 = try await client.uploadPart("blobs/big", uploadID: upload, partNumber: 2, body: ByteBuffer(bytes: part2))
        // Parts in any order: the client sorts them.
        let etag = try await client.completeMultipartUpload(
            "blobs/big", uploadID: upload, parts: [S3CompletedPart(partNumber: 2, etag: e2), S3CompletedPart(partNumber: 1, etag: e1)],
            condition: .ifNoneMatchAny)
        #expect(etag != nil)
        let stored = try #require(try await client.getBytes("blobs/big", limit: 6 << 20))
        #expect(stored.bytes.count == part1.count + part2.count)
        #expect(SHA256.hash(data: stored.bytes) == SHA256.hash(data: part1 + part2))
        #expect(try await client.listMultipartUploads(prefix: "blobs/").allSatisfy { $0.uploadID != upload })

        // A duplicate upload of the same key loses at completion: If-None-Match: *.
        let duplicate = try await client.createMultipartUpload("blobs/big")
        let d1 = try await client.uploadPart("blobs/big", uploadID: duplicate, partNumber: 1, body: ByteBuffer(string: "other"))
        let lost = try await client.completeMultipartUpload("blobs/big", uploadID: duplicate, parts: [S3CompletedPart(partNumber: 1, etag: d1)],
                                                            condition: .ifNoneMatchAny)
        #expect(lost == nil)
        try await client.abortMultipartUpload("blobs/big", uploadID: duplicate)
        #expect(try await client.head("blobs/big")?.size == Int64(part1.count + part2.count))

        await #expect(throws: S3Error.self) {
            _ = try await client.uploadPart("blobs/big", uploadID: upload, partNumber: 0, body: ByteBuffer(string: "x"))
        }
    }

    @Test(arguments: kinds)
    func abortLeavesNothing(_ kind: S3TestServer.Kind) async throws {
        let (_, client) = try await bucket(kind)
        let upload = try await client.createMultipartUpload("staging/abandoned")
        _ = try await client.uploadPart("staging/abandoned", uploadID: upload, partNumber: 1, body: ByteBuffer(string: "partial"))
        #expect(try await client.listMultipartUploads(prefix: "staging/").map(\.uploadID) == [upload])
        try await client.abortMultipartUpload("staging/abandoned", uploadID: upload)
        #expect(try await client.listMultipartUploads(prefix: "staging/").isEmpty)
        #expect(try await client.head("staging/abandoned") == nil)
        #expect(try await client.list(prefix: "staging/").isEmpty)
        // Aborting again is not an error.
        try await client.abortMultipartUpload("staging/abandoned", uploadID: upload)
    }

    @Test(arguments: kinds)
    func listingPagesPastAThousandKeys(_ kind: S3TestServer.Kind) async throws {
        let (_, client) = try await bucket(kind)
        let count = 1_050
        let keys = (0..<count).map { "index/k/" + String(format: "%05d", $0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            // At most 16 writes in flight.
            for _ in 0..<16 where next < keys.count {
                let key = keys[next]; next += 1
                group.addTask { _ = try await client.put(key, body: ByteBuffer(string: key)) }
            }
            while try await group.next() != nil, next < keys.count {
                let key = keys[next]; next += 1
                group.addTask { _ = try await client.put(key, body: ByteBuffer(string: key)) }
            }
            try await group.waitForAll()
        }
        _ = try await client.put("index/other", body: ByteBuffer(string: "x"))

        let listed = try await client.list(prefix: "index/k/")
        #expect(listed.map(\.key) == keys)
        #expect(listed.allSatisfy { $0.size == 13 && $0.lastModified != nil })

        #expect(try await client.list(prefix: "index/k/", limit: 5).map(\.key) == Array(keys.prefix(5)))
        #expect(try await client.list(prefix: "index/k/", startAfter: keys[1_040]).map(\.key) == Array(keys[1_041...]))
        #expect(try await client.list(prefix: "index/").count == count + 1)
        #expect(try await client.list(prefix: "nothing/").isEmpty)
    }

    @Test(arguments: kinds)
    func copy(_ kind: S3TestServer.Kind) async throws {
        let (_, client) = try await bucket(kind)
        let body = Self.bytes(70_000, seed: 9)
        _ = try await client.put("staging/x", body: ByteBuffer(bytes: body))
        let etag = try await client.copy(from: "staging/x", to: "blobs/sha256/x")
        #expect(etag != nil)
        #expect(try await client.getBytes("blobs/sha256/x", limit: 1 << 20)?.bytes == body)
        // The source stays until deleted.
        #expect(try await client.head("staging/x") != nil)
        await #expect(throws: S3Error.self) { _ = try await client.copy(from: "staging/missing", to: "blobs/sha256/y") }
    }

    /// Sources over 5 GiB are copied in parts; the same path with small parts.
    @Test(arguments: kinds)
    func copyInParts(_ kind: S3TestServer.Kind) async throws {
        let (_, client) = try await bucket(kind)
        let body = Self.bytes((11 << 20) + 4321, seed: 5)
        _ = try await client.put("staging/big", body: ByteBuffer(bytes: body))
        let etag = try await client.copyInParts(from: "staging/big", to: "blobs/sha256/big", size: Int64(body.count),
                                                partSize: 5 << 20, condition: .ifNoneMatchAny)
        #expect(etag != nil)
        let copied = try #require(try await client.getBytes("blobs/sha256/big", limit: 12 << 20))
        #expect(SHA256.hash(data: copied.bytes) == SHA256.hash(data: body))
        // The condition holds for the copy too, and a lost copy leaves no upload behind.
        let again = try await client.copyInParts(from: "staging/big", to: "blobs/sha256/big", size: Int64(body.count),
                                                 partSize: 5 << 20, condition: .ifNoneMatchAny)
        #expect(again == nil)
        #expect(try await client.listMultipartUploads(prefix: "blobs/").isEmpty)
    }

    @Test(arguments: kinds)
    func presignedGETWorksWithAPlainClient(_ kind: S3TestServer.Kind) async throws {
        let (server, client) = try await bucket(kind)
        let body = Self.bytes(5000, seed: 4)
        _ = try await client.put("blobs/sha256/presigned key+1", body: ByteBuffer(bytes: body))
        let url = try client.presignedGET("blobs/sha256/presigned key+1", expires: 300)
        #expect(url.hasPrefix(server.endpoint + "/"))
        let response = try await server.httpClient.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        #expect(response.status.code == 200)
        let fetched = try await response.body.collect(upTo: 1 << 20)
        #expect(Array(fetched.readableBytesView) == body)
    }

    @Test func seaweedRefusesATamperedPresignedURL() async throws {
        let (server, client) = try await bucket(.seaweed)
        _ = try await client.put("secret", body: ByteBuffer(string: "x"))
        let url = try client.presignedGET("secret", expires: 300).replacingOccurrences(of: "X-Amz-Expires=300", with: "X-Amz-Expires=301")
        let response = try await server.httpClient.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        #expect(response.status.code == 403)
    }

    @Test func seaweedRefusesAWrongSecretKey() async throws {
        let (server, client) = try await bucket(.seaweed)
        let wrong = server.client(for: client.location, credentials: S3Credentials(accessKeyID: server.credentials.accessKeyID, secretAccessKey: "not-the-secret"))
        do {
            _ = try await wrong.put("denied", body: ByteBuffer(string: "x"))
            Issue.record("a wrong secret key was accepted")
        } catch {
            guard case .server(_, _, let status, let code, _) = error else {
                Issue.record("expected a server refusal, got \(error)")
                return
            }
            #expect(status == 403)
            #expect(code == "SignatureDoesNotMatch")
            #expect(!error.isUnavailable, "a refused signature is not an outage")
            #expect(error.description.contains("secret key"))
        }
        #expect(try await client.head("denied") == nil)

        let unknown = server.client(for: client.location, credentials: S3Credentials(accessKeyID: "nobody", secretAccessKey: "x"))
        do {
            _ = try await unknown.put("denied", body: ByteBuffer(string: "x"))
            Issue.record("an unknown access key was accepted")
        } catch {
            guard case .server(_, _, 403, "InvalidAccessKeyId", _) = error else {
                Issue.record("expected 403 InvalidAccessKeyId, got \(error)")
                return
            }
            #expect(error.description.contains("access key"))
        }
    }

    @Test(arguments: kinds)
    func keysWithCharactersThatNeedEncoding(_ kind: S3TestServer.Kind) async throws {
        let (_, client) = try await bucket(kind)
        let keys = ["odd/a b", "odd/plus+sign", "odd/pct%41", "odd/eq=amp&q?", "odd/ünï", "odd/tilde~star*", "odd/@colon:"]
        for key in keys {
            #expect(try await client.put(key, body: ByteBuffer(string: key)) != nil, "put \(key)")
            #expect(try await client.getBytes(key, limit: 100)?.bytes == Array(key.utf8), "get \(key)")
        }
        #expect(Set(try await client.list(prefix: "odd/").map(\.key)) == Set(keys))
    }

    /// (SeaweedFS makes a bucket on the first write into it, so this is moto's.)
    @Test func errorBodiesBecomeTypedErrors() async throws {
        let server = try await S3TestServer.moto()
        let missing = try S3Location(bucket: "no-such-bucket-hoard", prefix: "p", endpoint: server.endpoint, pathStyle: true)
        let client = server.client(for: missing)
        do {
            _ = try await client.put("k", body: ByteBuffer(string: "x"))
            Issue.record("a put into a missing bucket succeeded")
        } catch {
            guard case .server(_, _, 404, "NoSuchBucket", _) = error else {
                Issue.record("expected 404 NoSuchBucket, got \(error)")
                return
            }
            #expect(error.description.contains("create the bucket"))
            guard case .index = error.storeError else {
                Issue.record("a missing bucket is not an outage: \(error.storeError)")
                return
            }
        }
    }

    @Test(arguments: kinds)
    func aStoppedServerIsUnavailable(_ kind: S3TestServer.Kind) async throws {
        let server = try await S3TestServer.startPrivate(kind)
        let location = try await server.makeLocation()
        let client = server.client(for: location)
        _ = try await client.put("k", body: ByteBuffer(string: "x"))
        server.stop()
        for operation in ["head", "put", "list"] {
            do {
                switch operation {
                case "head": _ = try await client.head("k")
                case "put": _ = try await client.put("k", body: ByteBuffer(string: "y"))
                default: _ = try await client.list(prefix: "")
                }
                Issue.record("\(operation) on a stopped server succeeded")
            } catch {
                guard case .unavailable = error.storeError else {
                    Issue.record("\(operation): expected .unavailable, got \(error.storeError)")
                    continue
                }
                #expect(error.isUnavailable)
                #expect(error.description.contains("cannot be reached"), "\(operation): \(error)")
            }
        }
    }

    /// S3SharedObjects keeps the rules of the seam as MemorySharedObjects does.
    @Test(arguments: kinds)
    func sharedObjects(_ kind: S3TestServer.Kind) async throws {
        let (_, client) = try await bucket(kind)
        let shared: any SharedObjects = S3SharedObjects(client: client)
        let key = SharedKey(["index", "oci", "tags", "my/repo", "latest"])
        #expect(try await shared.get(key) == nil)
        let v1 = try #require(try await shared.put(key, Array("a".utf8), when: .ifAbsent))
        #expect(try await shared.put(key, Array("b".utf8), when: .ifAbsent) == nil)
        let read = try #require(try await shared.get(key))
        #expect(read.bytes == Array("a".utf8))
        #expect(read.version == v1)
        let v2 = try #require(try await shared.put(key, Array("c".utf8), when: .ifMatch(v1)))
        #expect(try await shared.put(key, Array("d".utf8), when: .ifMatch(v1)) == nil)
        #expect(try await shared.put(key, Array("e".utf8), when: .always) != nil)
        #expect(v2 != v1)

        let other = SharedKey(["index", "oci", "tags", "my/repo", "v2"])
        _ = try await shared.put(other, Array("x".utf8), when: .always)
        let listed = try await shared.list(prefix: SharedKey(["index", "oci", "tags", "my/repo"]).directory)
        #expect(listed.map(\.key) == [key, other])
        #expect(listed.map(\.key.lastComponent) == ["latest", "v2"])
        try await shared.delete(key)
        try await shared.delete(key)
        #expect(try await shared.get(key) == nil)
    }
}
