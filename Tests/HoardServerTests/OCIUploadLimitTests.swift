import Foundation
import HoardOCI
import HoardStore
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

@testable import HoardServer

/// The upload limits: blob size (413, session removed), sessions open at once (429 with
/// Retry-After), and bytes held by upload sessions against `--max-size` (507; eviction leaves them room).
@Suite struct OCIUploadLimitTests {
    @Test func anUploadPastTheBlobLimitIsRefusedAndRemoved() async throws {
        var server = try OCITestServer()
        server.settings.oci.maxUploadSize = ByteSize(bytes: 1000)
        defer { server.remove() }
        try await server.run { client, store in
            // Chunks: the one that would pass the limit is refused, and the session is gone.
            let location = try #require(try await client.send(.post, "/v2/r/blobs/uploads/").headers[.location])
            #expect(try await client.send(.patch, location, headers: [.contentRange: "0-599"], body: randomBytes(600)).status == .accepted)
            let over = try await client.send(.patch, location, headers: [.contentRange: "600-1199"], body: randomBytes(600))
            #expect(over.status == .contentTooLarge)
            #expect(errorCode(over) == "BLOB_UPLOAD_INVALID")
            #expect(String(buffer: over.body).contains("max_upload_size"))
            #expect(try await client.send(.get, location).status == .notFound)

            // A closing PUT that carries too much.
            let second = try #require(try await client.send(.post, "/v2/r/blobs/uploads/").headers[.location])
            let big = randomBytes(1001)
            let digest = OCIDigest.compute(.sha256, of: big).description
            let put = try await client.send(.put, second + "?digest=" + digest, body: big)
            #expect(put.status == .contentTooLarge && errorCode(put) == "BLOB_UPLOAD_INVALID")
            #expect(try await client.send(.get, second).status == .notFound)

            // A monolithic POST.
            let monolithic = try await client.send(.post, "/v2/r/blobs/uploads/?digest=" + digest, body: big)
            #expect(monolithic.status == .contentTooLarge)
            #expect(try await client.send(.head, "/v2/r/blobs/" + digest).status == .notFound)
            #expect(try await store.totals().count == 0)

            // At the limit exactly is fine.
            try await client.pushBlob("r", randomBytes(1000))
        }
    }

    @Test func sessionsPastTheLimitGet429() async throws {
        var server = try OCITestServer()
        server.settings.oci.maxUploadSessions = 2
        defer { server.remove() }
        try await server.run { client, _ in
            let first = try #require(try await client.send(.post, "/v2/r/blobs/uploads/").headers[.location])
            #expect(try await client.send(.post, "/v2/r/blobs/uploads/").status == .accepted)
            let third = try await client.send(.post, "/v2/r/blobs/uploads/")
            #expect(third.status == .tooManyRequests)
            #expect(errorCode(third) == "TOOMANYREQUESTS")
            #expect(third.headers[.retryAfter].flatMap { Int($0) }.map { $0 > 0 } == true)
            // Closing one makes room.
            #expect(try await client.send(.delete, first).status == .noContent)
            #expect(try await client.send(.post, "/v2/r/blobs/uploads/").status == .accepted)
        }
    }

    /// POSTs do not list every session each time (a listing costs more with every session a
    /// bucket ever held): one listing serves the POSTs of a few seconds while far from the limit.
    @Test func postsCountSessionsWithoutAListingEachTime() async throws {
        let store = CountingUploads(MemoryBlobStore().uploads)
        let uploads = UploadSessions(
            store: store, expiry: .seconds(3600), limits: UploadLimits(maxSize: ByteSize(bytes: 1 << 30), maxSessions: 100, storeMaxSize: nil),
            logger: Logger(label: "test"))
        for _ in 0..<20 { _ = try await uploads.create(repository: try RepositoryName("r")) }
        #expect(store.listings == 1)
        #expect(try await store.list().count == 20)
    }

    @Test func uploadsCannotHoldMoreThanTheStoreMayKeep() async throws {
        var server = try OCITestServer()
        server.settings.maxSize = ByteSize(bytes: 1500)
        defer { server.remove() }
        try await server.run { client, _ in
            let a = try #require(try await client.send(.post, "/v2/r/blobs/uploads/").headers[.location])
            let b = try #require(try await client.send(.post, "/v2/r/blobs/uploads/").headers[.location])
            #expect(try await client.send(.patch, a, headers: [.contentRange: "0-999"], body: randomBytes(1000)).status == .accepted)
            let refused = try await client.send(.patch, b, headers: [.contentRange: "0-999"], body: randomBytes(1000))
            #expect(refused.status.code == 507)
            #expect(String(buffer: refused.body).contains("--max-size"))
            #expect(try await client.send(.get, b).status == .notFound)
            #expect(try await client.send(.get, a).status == .noContent)
        }
    }

    @Test func evictionLeavesRoomForUploadsInProgress() async throws {
        let root = NSTemporaryDirectory() + "hoard-evict-uploads-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try await Store.open(root: root)
        let cached = randomBytes(1000)
        let writer = try await store.makeWriter(expectedDigest: BlobDigest.of(cached))
        try await writer.write(ByteBuffer(bytes: cached))
        let record = try await store.commit(writer, pinned: false)

        var settings = ServerSettings(maxSize: ByteSize(bytes: 1500))
        settings.oci.maxUploadSessions = 4
        let uploads = UploadSessions(
            store: store.blobs.uploads, expiry: .seconds(3600),
            limits: UploadLimits(maxSize: ByteSize(bytes: 10_000), maxSessions: 4, storeMaxSize: settings.maxSize),
            logger: Logger(label: "test"))
        let maintenance = MaintenanceService(store: store, settings: settings, uploads: uploads, logger: Logger(label: "test"))

        // 1000 cached bytes fit under 1500.
        await maintenance.runOnce()
        #expect(try await store.existingBlob(record.digest) != nil)
        // With 800 bytes in an upload session they do not: the cached blob makes room.
        let id = try await uploads.create(repository: try RepositoryName("r"))
        let session = try await uploads.acquire(try #require(UploadSessionID(id.value)), repository: try RepositoryName("r"))
        try await store.blobs.uploads.appender(session.id).append(ByteBuffer(bytes: randomBytes(800)))
        await uploads.release(session)
        await maintenance.runOnce()
        #expect(try await store.existingBlob(record.digest) == nil)
    }
}

/// Upload sessions that count how often they are listed.
private final class CountingUploads: BlobUploads {
    private let base: any BlobUploads
    private let count = Mutex(0)
    var listings: Int { count.withLock { $0 } }

    init(_ base: any BlobUploads) { self.base = base }

    func create(metadata: [UInt8]) async throws(StoreError) -> UploadID { try await base.create(metadata: metadata) }
    func info(_ id: UploadID) async throws(StoreError) -> UploadInfo? { try await base.info(id) }
    func appender(_ id: UploadID) async throws(StoreError) -> any UploadAppender { try await base.appender(id) }
    func makeWriter<H: UploadHasher>(
        from id: UploadID, expectedDigest: BlobDigest?, expectedSize: Int64?, hashing hasher: inout H
    ) async throws(StoreError) -> any BlobWriter {
        try await base.makeWriter(from: id, expectedDigest: expectedDigest, expectedSize: expectedSize, hashing: &hasher)
    }
    func remove(_ id: UploadID) async throws(StoreError) { try await base.remove(id) }
    func list() async throws(StoreError) -> [UploadEntry] {
        count.withLock { $0 += 1 }
        return try await base.list()
    }
}
