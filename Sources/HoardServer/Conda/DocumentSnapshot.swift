import Foundation
import HoardStore
import NIOCore

/// A stored blob as served: small ones also kept in memory (serving them costs no disk read).
struct ServedBlob: Sendable {
    let digest: BlobDigest
    let size: Int64
    let memory: ByteBuffer?

    /// Documents up to this size are served from memory.
    static let memoryLimit: Int64 = 16 << 20

    static func load(_ digest: BlobDigest, from store: Store) throws -> ServedBlob {
        let file = try store.open(digest)
        let memory = file.size <= memoryLimit ? ByteBuffer(bytes: try file.readAll(limit: memoryLimit)) : nil
        return ServedBlob(digest: digest, size: file.size, memory: memory)
    }
}

/// One snapshot of an upstream document, with every representation served for it.
struct DocumentSnapshot: Sendable {
    let key: DocumentKey
    let row: RepodataRow
    /// The document itself (URLs rewritten where they were absolute).
    let served: ServedBlob
    /// For repodata.json: the `.zst` of exactly `served`.
    let zst: ServedBlob?
    /// How long it stays fresh after validation, in seconds.
    let ttl: Double

    var validatedAt: Double { row.validatedAt }

    /// Upstream's Last-Modified when it sent one, else when hoard fetched it.
    var lastModified: Double {
        row.upstreamLastModified.flatMap(HTTPDate.parse) ?? row.fetchedAt
    }

    func isFresh(at now: Double) -> Bool { now - row.validatedAt < ttl }

    /// The TTL: configured, else upstream's `max-age`, else ten minutes.
    static func ttl(configured: Duration?, cacheControl: String?) -> Double {
        if let configured { return Double(configured.components.seconds) }
        if let maxAge = cacheControl.flatMap(Self.maxAge) { return maxAge }
        return 600
    }

    static func maxAge(_ cacheControl: String) -> Double? {
        for directive in cacheControl.split(separator: ",") {
            let parts = directive.trimmed().split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "max-age", let seconds = Double(parts[1].trimmed()) {
                return seconds
            }
        }
        return nil
    }
}
