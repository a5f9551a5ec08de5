import Foundation
import HoardHTTP
import HoardStore
import NIOCore

/// A stored blob as served: small ones also kept in memory (serving them costs no disk read).
struct ServedBlob: Sendable {
    let digest: BlobDigest
    let size: Int64
    let memory: ByteBuffer?

    /// Documents up to this size are served from memory.
    static let memoryLimit: Int64 = 16 << 20

    static func load(_ digest: BlobDigest, from store: Store) async throws -> ServedBlob {
        let reader = try await store.open(digest)
        let memory = reader.size <= memoryLimit ? try await reader.readBuffer() : nil
        return ServedBlob(digest: digest, size: reader.size, memory: memory)
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

    /// `max-age` for clients: the TTL in whole seconds (finite and bounded, see `ttl`).
    /// (Clamped again here: `ttl` is whatever the snapshot was built with.)
    var clientMaxAge: Int64 {
        guard ttl.isFinite, ttl > 0 else { return 0 }
        return Int64(min(ttl, Self.maxTTL).rounded(.down))
    }

    /// The longest TTL: 2^31 s, the RFC 9111 ceiling for delta-seconds (about 68 years).
    static let maxTTL = Double(CacheControl.deltaSecondsLimit)

    /// The TTL: configured, else upstream's `max-age`, else ten minutes. Always finite and
    /// within 0...maxTTL, whatever upstream sent (`max-age=1e400`, `-5`, `nan` are invalid, hence
    /// absent; a value too large is the largest).
    static func ttl(configured: Duration?, cacheControl: String?) -> Double {
        if let configured { return min(max(Double(configured.components.seconds), 0), maxTTL) }
        if let maxAge = cacheControl.flatMap(Self.maxAge) { return maxAge }
        return 600
    }

    /// Upstream's `max-age` (RFC 9111 delta-seconds, saturated at 2^31), or nil if absent/invalid.
    static func maxAge(_ cacheControl: String) -> Double? {
        CacheControl(cacheControl).maxAge.map(Double.init)
    }
}
