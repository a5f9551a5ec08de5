import Crypto
import Foundation
import NIOCore
import Testing
@testable import HoardStore

/// The upload sessions of every backend (`BlobStore.uploads`): what OCI chunked uploads rely on.
@Suite struct BlobUploadsConformance {
    @Test(arguments: BlobStoreBackend.allCases)
    func aNewSessionIsEmptyAndKeepsItsMetadata(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let before = Date()
            let metadata = Array(#"{"repository":"team/app"}"#.utf8)
            let id = try await store.uploads.create(metadata: metadata)
            let info = try #require(try await store.uploads.info(id))
            #expect(info.id == id && info.metadata == metadata && info.size == 0)
            // File times may lag the clock by a tick: allow a second either side.
            #expect(info.lastModified >= before.addingTimeInterval(-1) && info.lastModified <= Date().addingTimeInterval(1))
            #expect(try await store.uploads.list().map(\.id) == [id])
            // A session is not a blob.
            #expect(try await enumerate(store).isEmpty)
            try await store.uploads.remove(id)
        }
    }

    /// A monolithic upload's session, removed without a look for bytes, is gone everywhere.
    @Test(arguments: BlobStoreBackend.allCases)
    func anEmptySessionRemovedAsEmptyIsGone(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let id = try await store.uploads.create(metadata: Array("m".utf8))
            try await store.uploads.removeEmpty(id)
            #expect(try await store.uploads.info(id) == nil)
            #expect(try await store.uploads.list().isEmpty)
            await #expect(throws: StoreError.self) { _ = try await store.uploads.appender(id) }
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func appendsFromSeveralRequestsAddUp(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let bytes = randomBlob(200_003)
            let id = try await store.uploads.create(metadata: [])
            // One request, two chunks; then another request (a new appender) carries on.
            let first = try await store.uploads.appender(id)
            try await first.append(ByteBuffer(bytes: bytes[0..<1]))
            try await first.append(ByteBuffer(bytes: bytes[1..<70_000]))
            #expect(first.size == 70_000)
            #expect(try await store.uploads.info(id)?.size == 70_000)
            let second = try await store.uploads.appender(id)
            #expect(second.size == 70_000)
            try await second.append(ByteBuffer(bytes: bytes[70_000...]))
            #expect(second.size == 200_003)
            #expect(try await store.uploads.list().map(\.size) == [200_003])

            let writer = try await store.uploads.makeWriter(from: id, expectedDigest: BlobDigest.of(bytes))
            #expect(writer.bytesWritten == 200_003)
            #expect(try await writer.commit() == (BlobDigest.of(bytes), 200_003))
            #expect(try await readAll(try await store.open(BlobDigest.of(bytes))) == bytes)
            try await store.uploads.remove(id)
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func aSessionBecomesABlobWithMoreBytesAndASecondDigest(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let head = randomBlob(1 << 20)
            let rest = randomBlob(12_345)
            let all = head + rest
            let id = try await store.uploads.create(metadata: [7])
            try await store.uploads.appender(id).append(ByteBuffer(bytes: head))

            var second = SHA512Hasher()
            let writer = try await store.uploads.makeWriter(
                from: id, expectedDigest: BlobDigest.of(all), expectedSize: Int64(all.count), hashing: &second)
            // The second hasher saw the session's bytes; the caller feeds it the rest.
            #expect(second.digest == Array(SHA512.hash(data: head)))
            #expect(try await store.size(of: BlobDigest.of(all)) == nil)
            try await writer.write(ByteBuffer(bytes: rest))
            #expect(try await writer.commit() == (BlobDigest.of(all), Int64(all.count)))
            #expect(try await readAll(try await store.open(BlobDigest.of(all))) == all)

            // The session stays until it is removed; then it is gone for good.
            #expect(try await store.uploads.info(id)?.size == Int64(head.count))
            try await store.uploads.remove(id)
            #expect(try await store.uploads.info(id) == nil)
            #expect(try await store.uploads.list().isEmpty)
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func aSessionWithTheWrongDigestPublishesNothing(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let bytes = randomBlob(5000)
            let wrong = BlobDigest.of(Array("other".utf8))
            let id = try await store.uploads.create(metadata: [])
            try await store.uploads.appender(id).append(ByteBuffer(bytes: bytes))
            let writer = try await store.uploads.makeWriter(from: id, expectedDigest: wrong)
            await #expect(throws: StoreError.digestMismatch(expected: wrong, actual: BlobDigest.of(bytes))) {
                try await writer.commit()
            }
            #expect(try await enumerate(store).isEmpty)
            try await store.uploads.remove(id)
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func anEmptySessionMakesTheEmptyBlob(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let id = try await store.uploads.create(metadata: [])
            let writer = try await store.uploads.makeWriter(from: id, expectedDigest: .empty)
            #expect(try await writer.commit() == (BlobDigest.empty, 0))
            try await store.uploads.remove(id)
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func anUnknownOrRemovedSessionIsNotFound(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let unknown = try #require(UploadID(UUID().uuidString.lowercased()))
            #expect(try await store.uploads.info(unknown) == nil)
            await #expect(throws: StoreError.uploadNotFound(unknown.value)) { try await store.uploads.appender(unknown) }
            await #expect(throws: StoreError.uploadNotFound(unknown.value)) {
                try await store.uploads.makeWriter(from: unknown, expectedDigest: nil)
            }
            try await store.uploads.remove(unknown)

            // A removed session is gone for every call.
            let id = try await store.uploads.create(metadata: [])
            try await store.uploads.appender(id).append(ByteBuffer(bytes: [1]))
            try await store.uploads.remove(id)
            #expect(try await store.uploads.info(id) == nil)
            #expect(try await store.uploads.list().isEmpty)
            await #expect(throws: StoreError.uploadNotFound(id.value)) { try await store.uploads.appender(id) }
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func sessionsAreIndependent(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let payloads = (0..<6).map { randomBlob(10_000 + $0 * 3001) }
            let ids = try await withThrowingTaskGroup(of: (Int, UploadID).self) { group in
                for (index, payload) in payloads.enumerated() {
                    group.addTask {
                        let id = try await store.uploads.create(metadata: [UInt8(index)])
                        let appender = try await store.uploads.appender(id)
                        for start in stride(from: 0, to: payload.count, by: 4099) {
                            try await appender.append(ByteBuffer(bytes: payload[start..<min(start + 4099, payload.count)]))
                        }
                        return (index, id)
                    }
                }
                return try await group.reduce(into: [Int: UploadID]()) { $0[$1.0] = $1.1 }
            }
            let listed = try await store.uploads.list()
            #expect(Set(listed.map(\.id)) == Set(ids.values))
            for (index, id) in ids {
                let info = try #require(try await store.uploads.info(id))
                #expect(info.metadata == [UInt8(index)] && info.size == Int64(payloads[index].count))
                let writer = try await store.uploads.makeWriter(from: id, expectedDigest: BlobDigest.of(payloads[index]))
                _ = try await writer.commit()
                try await store.uploads.remove(id)
            }
            #expect(try await enumerate(store).count == payloads.count)
        }
    }

    @Test(arguments: BlobStoreBackend.allCases)
    func lastModifiedFollowsAppends(_ backend: BlobStoreBackend) async throws {
        try await backend.withStore { store in
            let id = try await store.uploads.create(metadata: [])
            let created = try #require(try await store.uploads.info(id)).lastModified
            let before = Date()
            try await store.uploads.appender(id).append(ByteBuffer(bytes: [1, 2, 3]))
            let entry = try #require(try await store.uploads.list().first)
            #expect(entry.lastModified >= created)
            #expect(entry.lastModified >= before.addingTimeInterval(-1) && entry.lastModified <= Date().addingTimeInterval(1))
            try await store.uploads.remove(id)
        }
    }
}

/// A second digest of the copied bytes, as the OCI front uses for sha512.
struct SHA512Hasher: UploadHasher {
    private var hasher = SHA512()
    mutating func update(bufferPointer: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bufferPointer) }
    var digest: [UInt8] { Array(hasher.finalize()) }
}
