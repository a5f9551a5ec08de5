import Foundation
import HoardS3
import HoardS3TestSupport
import Testing
@testable import HoardStore

/// The backends the conformance suite runs against; each makes a fresh, empty store and checks
/// afterwards that no ingest was left behind (no temp file, no writer's bytes held, no multipart
/// upload or staging object in the bucket), as distribution's suite checks that a driver cleaned
/// up after every test.
enum BlobStoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case file
    case memory
    /// The S3 backend in a fresh place (own key prefix) on the test process's moto server, with
    /// a local cache (so the suite covers reads of the node's copies too).
    case s3moto
    /// The S3 backend in a fresh place (own key prefix) on the test process's SeaweedFS (which checks signatures).
    case s3seaweed

    var testDescription: String { rawValue }

    func withStore(_ body: (any BlobStore) async throws -> Void) async throws {
        switch self {
        case .file:
            let directory = TemporaryDirectory()
            let layout = StoreLayout(root: directory.path)
            let store = FileBlobStore(layout: layout)
            try await store.prepare()
            try await body(store)
            #expect(filesIn(layout.ingestDirectory) == [], "ingests left behind in tmp/ingest")
        case .memory:
            let store = MemoryBlobStore()
            try await body(store)
            #expect(store.ingestsInProgress == 0, "ingests left behind in memory")
        case .s3moto, .s3seaweed:
            let bucket = try await S3Bucket(self == .s3moto ? .moto : .seaweed, cached: self == .s3moto)
            try await body(bucket.store)
            try await bucket.expectNothingLeftBehind()
        }
    }
}

/// A fresh place in the test bucket (own key prefix) and an `S3BlobStore` on it (its spool, and
/// its local cache when `cached`, in a temporary directory), as one node.
final class S3Bucket: Sendable {
    let server: S3TestServer
    let location: S3Location
    let client: S3Client
    let store: S3BlobStore
    let spool: String
    /// Where the nodes' spools and caches are, removed with this.
    let directory: String

    init(_ kind: S3TestServer.Kind, cached: Bool = false, cacheLimit: Int64 = 1 << 30) async throws {
        directory = NSTemporaryDirectory() + "hoard-test-" + UUID().uuidString
        server = try await S3TestServer.shared(kind)
        location = try await server.makeLocation()
        client = server.client(for: location)
        spool = directory + "/tmp/s3-spool"
        let cache = cached ? LocalBlobCache(path: directory + "/s3-cache", limit: cacheLimit) : nil
        store = S3BlobStore(client: client, spoolDirectory: spool, cache: cache)
        try await store.prepare()
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// Another node on the same bucket: its own client, store and spool (under this one's
    /// temporary directory).
    func node(_ name: String, cached: Bool = false) async throws -> S3BlobStore {
        let cache = cached ? LocalBlobCache(path: directory + "/" + name + "/s3-cache", limit: 1 << 30) : nil
        let node = S3BlobStore(client: server.client(for: location), spoolDirectory: directory + "/" + name + "/tmp/s3-spool", cache: cache)
        try await node.prepare()
        return node
    }

    /// No multipart upload in progress, no staging object, no spool file: every ingest ended.
    func expectNothingLeftBehind() async throws {
        await store.settle()
        let uploads = try await client.listMultipartUploads(prefix: "")
        #expect(uploads.isEmpty, "multipart uploads left behind: \(uploads.map(\.key))")
        let staged = try await client.list(prefix: "staging/")
        #expect(staged.isEmpty, "staging objects left behind: \(staged.map(\.key))")
        #expect(filesIn(spool) == [], "spool files left behind")
        if let cache = store.cache {
            let partial = filesIn(cache.path).filter { $0.hasSuffix(".fill") }
            #expect(partial == [], "unfinished copies left in the local cache")
        }
    }
}

/// The committed blobs, as the store enumerates them, sorted by digest.
func enumerate(_ store: any BlobStore) async throws -> [(digest: BlobDigest, size: Int64)] {
    let entries = try await store.entries()
    #expect(entries.allSatisfy { $0.digest != nil }, "something that is not a blob where blobs live")
    return entries.compactMap { entry in entry.digest.map { ($0, entry.size) } }.sorted { $0.digest < $1.digest }
}

/// Random bytes, eight from each call of the generator (the per-byte helper is slow for the
/// megabytes these tests write in a debug build).
func randomBlob(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { raw in
        var offset = 0
        while offset < count {
            var word = generator.next() as UInt64
            let n = min(8, count - offset)
            withUnsafeBytes(of: &word) { raw.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: n) }
            offset += n
        }
    }
    return bytes
}
