import Crypto
import Foundation
import NIOCore
import NIOPosix

/// What `hoard verify` found in a bucket several nodes share.
public struct SharedVerifyReport: Sendable {
    public var checkedBlobs = 0
    public var checkedBytes: Int64 = 0
    /// Blobs whose bytes do not hash to their name.
    public var corrupt: [BlobDigest] = []
    /// Blobs a name, a channel document or pushed OCI content needs that the bucket does not
    /// hold, with the names that point at them (where the records are names).
    public var missing: [(digest: BlobDigest, names: [SharedKey])] = []
    /// Objects under `blobs/` that are not blobs (their keys).
    public var foreign: [String] = []
    /// Blobs no record mentions: not damage (an ingest names its blob just after it, and garbage
    /// collection removes the rest once they are an hour old), counted for the operator.
    public var unreferenced = 0
    /// Records of the shared index read.
    public var records = 0

    public var foundDamage: Bool { !(corrupt.isEmpty && missing.isEmpty && foreign.isEmpty) }
}

/// Re-hashes every blob in a shared bucket and checks that every blob the shared index needs is
/// there. Read-only: it runs beside live nodes, and writes, locks and creates nothing.
///
/// The nodes keep working meanwhile, so it reads in the order that keeps findings true: the
/// names first, then the blob listing (a blob is stored before its name is written, so a name
/// seen first has its blob in the later listing, unless it was evicted meanwhile); a blob the
/// listing lacks is missing only if, read again, a record still needs it and it is still not
/// there (eviction removes the names, then the blob).
public struct SharedVerifier: Sendable {
    public let parallelism: Int
    private let blobs: any BlobStore
    private let scan: SharedNameScan

    /// Blobs are read in pieces this large (a streamed GET each, for a bucket).
    static let step = 4 << 20

    public init(blobs: any BlobStore, objects: any SharedObjects, parallelism: Int) {
        self.blobs = blobs
        self.scan = SharedNameScan(objects: objects)
        self.parallelism = max(1, parallelism)
    }

    public func run() async throws -> SharedVerifyReport {
        var report = SharedVerifyReport()
        let names = try await scan.scan()
        report.records = names.records
        var listed: [(BlobDigest, Int64)] = []
        for entry in try await blobs.entries() {
            if let digest = entry.digest { listed.append((digest, entry.size)) } else { report.foreign.append(entry.location) }
        }
        let inBucket = Set(listed.map(\.0))
        var missingCandidates = Self.needed(names).subtracting(inBucket)

        let blobs = self.blobs
        let hashed = try await Concurrently.map(listed, limit: parallelism) { digest, size in
            (digest, size, try await Self.hashMatches(digest, in: blobs))
        }
        for (digest, size, ok) in hashed {
            guard let ok else {
                // Gone while we looked (evicted, or collected as garbage): missing only if needed.
                missingCandidates.insert(digest)
                continue
            }
            report.checkedBlobs += 1
            report.checkedBytes += size
            if !ok { report.corrupt.append(digest) }
            if !names.referenced.contains(digest) { report.unreferenced += 1 }
        }

        if !missingCandidates.isEmpty {
            let again = try await scan.scan()
            let needed = Self.needed(again)
            for digest in missingCandidates.sorted() where needed.contains(digest) {
                guard try await blobs.size(of: digest) == nil else { continue }
                report.missing.append((digest, (again.names[digest] ?? []).sorted()))
            }
        }
        report.corrupt.sort()
        report.foreign.sort()
        return report
    }

    /// Blobs whose absence is damage: those names, current channel documents and pushed OCI
    /// content mention. (Records that only refer to derived blobs, conda OCI info layers, are
    /// left out: eviction may take those blobs, and they are made again on demand.)
    static func needed(_ names: SharedNames) -> Set<BlobDigest> {
        Set(names.names.keys).union(names.documents).union(names.pinned)
    }

    /// Whether the blob's bytes hash to its name, read in `step` pieces (a blob may be larger
    /// than memory); nil when it is gone. Hashing runs on NIO's thread pool.
    static func hashMatches(_ digest: BlobDigest, in blobs: any BlobStore) async throws -> Bool? {
        let reader: any BlobReader
        do {
            reader = try await blobs.open(digest)
        } catch .blobNotFound {
            return nil
        }
        let hasher = HashInProgress()
        var offset: Int64 = 0
        while offset < reader.size {
            let chunk: ByteBuffer
            do {
                chunk = try await reader.read(at: offset, count: step)
            } catch .blobNotFound {
                return nil
            }
            // Fewer bytes than it said it holds: not the blob its name says.
            guard chunk.readableBytes > 0 else { return false }
            try await NIOThreadPool.singleton.runIfActive { hasher.update(chunk) }
            offset += Int64(chunk.readableBytes)
        }
        return hasher.finalize() == digest
    }
}

/// A SHA-256 fed from the thread pool, one piece after the other (never two at once).
private final class HashInProgress: @unchecked Sendable {
    private var hasher = SHA256()

    func update(_ chunk: ByteBuffer) {
        chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
    }

    func finalize() -> BlobDigest {
        BlobDigest(hasher.finalize())
    }
}
