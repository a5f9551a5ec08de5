import Foundation
import Testing
@testable import HoardStore

/// The backends the conformance suite runs against; each makes a fresh, empty store and checks
/// afterwards that no ingest was left behind (no temp file, no writer's bytes held), as
/// distribution's suite checks that a driver cleaned up after every test.
enum BlobStoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case file
    case memory

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
