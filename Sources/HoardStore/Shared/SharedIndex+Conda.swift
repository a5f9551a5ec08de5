import Foundation

/// The conda side's shared records (cache-layout.md, "The bucket"): conda names, channel
/// documents with their upstream validators (or upstream's "not found"), channel tokens and the
/// derived OCI info layers of packages. Each is one small JSON object under `index/<kind>/…`.
extension SharedIndex {
    /// The record kinds (the second component of a key).
    enum Kind {
        static let conda = "conda"
        static let repodata = "repodata"
        static let tokens = "tokens"
        static let condaOCIInfo = "conda-oci-info"
    }

    /// `index/conda/<channel>/<label>/<subdir>/<filename>` (a shard's `shards/<hex>.msgpack.zst`
    /// is one component: its `/` is encoded).
    static func condaKey(_ key: CondaFileKey) -> SharedKey {
        Self.key(Kind.conda, [key.channel, key.label, key.subdir, key.filename])
    }

    /// `index/repodata/<channel>/<label>/<subdir>/<name>` (`@` for the empty label or subdir).
    static func documentKey(channel: String, label: String, subdir: String, name: String) -> SharedKey {
        Self.key(Kind.repodata, [channel, label, subdir, name])
    }

    /// `index/tokens/<token sha256>`: one object per token, named by what requests are checked by.
    static func tokenKey(hash: String) -> SharedKey {
        Self.key(Kind.tokens, [hash])
    }

    /// `index/conda-oci-info/archive/<archive hex>/<subdir>`: the row itself.
    static func condaInfoKey(archive: BlobDigest, subdir: String) -> SharedKey {
        Self.key(Kind.condaOCIInfo, ["archive", archive.hex, subdir])
    }

    /// `index/conda-oci-info/layer/<layer hex>/<archive hex>/<subdir>`: the same row again, so a
    /// layer asked for by digest is found with one listing (S3 has no secondary index).
    static func condaInfoLayerKey(layer: BlobDigest, archive: BlobDigest, subdir: String) -> SharedKey {
        Self.key(Kind.condaOCIInfo, ["layer", layer.hex, archive.hex, subdir])
    }

    /// The decoded components of a key after `index/<kind>/`; nil for a key of another kind or
    /// one that does not decode (never produced by hoard: skipped by listings).
    static func components(of key: SharedKey, kind: String) -> [String]? {
        let prefix = "index/" + kind + "/"
        guard key.path.hasPrefix(prefix) else { return nil }
        var out: [String] = []
        for part in key.path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false) {
            guard let decoded = SharedKey.decode(part) else { return nil }
            out.append(decoded)
        }
        return out
    }

    /// The listing prefix of a kind, narrowed by leading components: `index/<kind>/<c1>/…/`.
    static func directory(_ kind: String, _ components: [String]) -> SharedKey {
        Self.key(kind, components).directory
    }
}

/// A conda name: the blob it points at, and its size (so a node caching the name knows the
/// blob's row without asking the bucket; the blob itself is checked when it is served).
struct SharedCondaFile: Codable, Sendable, Equatable {
    var digest: String
    var size: Int64
}

/// A channel document: the current snapshot, or upstream's "not found". One object per document,
/// so a snapshot replaces a remembered "not found" and the reverse, and a compare-and-swap orders
/// them (`stamp`: the newer word from upstream wins).
struct SharedDocument: Codable, Sendable, Equatable {
    struct Snapshot: Codable, Sendable, Equatable {
        var digest: String
        var size: Int64
        var servedDigest: String?
        var servedSize: Int64?
        var zstDigest: String?
        var zstSize: Int64?
        var upstreamURL: String?
        var upstreamETag: String?
        var upstreamLastModified: String?
        var upstreamCacheControl: String?
        var upstreamBaseURL: String?
        var upstreamShardsBaseURL: String?
        var fetchedAt: Double
        var validatedAt: Double
    }
    struct Missing: Codable, Sendable, Equatable {
        var upstreamURL: String
        var status: Int
        var checkedAt: Double
    }
    var snapshot: Snapshot?
    var missing: Missing?

    /// When upstream last said what this record holds (unix seconds).
    var stamp: Double { snapshot?.validatedAt ?? missing?.checkedAt ?? 0 }
}

/// A channel token, by its hash (the token itself is never stored anywhere).
struct SharedChannelToken: Codable, Sendable, Equatable {
    var id: String
    var channel: String
    var createdAt: Double
    var expiresAt: Double?
    var revokedAt: Double?
}

/// The info layers of one package archive (`conda_oci_info`).
struct SharedCondaInfo: Codable, Sendable, Equatable {
    var archive: String
    var subdir: String
    var recipe: Int
    var infoTarGz: String
    var infoTarGzSize: Int64
    var indexJSON: String
    var indexJSONSize: Int64
    var createdAt: Double
}

/// What the bucket says about a document, as `StoreIndex.sharedDocument` returns it.
public enum SharedDocumentState: Sendable, Hashable {
    case snapshot(RepodataRow)
    case missing(MissingDocumentRow)
}

extension SharedIndex {
    /// Reads many records at once, at most `width` requests in flight (a listing of a busy
    /// channel names thousands); absent ones (deleted since the listing) are left out.
    func readAll<T: Decodable & Sendable>(_ type: T.Type, at keys: [SharedKey], width: Int = 16) async throws -> [(SharedKey, T)] {
        var out: [(SharedKey, T)] = []
        out.reserveCapacity(keys.count)
        try await withThrowingTaskGroup(of: (SharedKey, T)?.self) { group in
            var next = keys.makeIterator()
            for _ in 0..<width {
                guard let key = next.next() else { break }
                group.addTask { try await self.read(T.self, at: key).map { (key, $0.value) } }
            }
            while let result = try await group.next() {
                if let result { out.append(result) }
                if let key = next.next() {
                    group.addTask { try await self.read(T.self, at: key).map { (key, $0.value) } }
                }
            }
        }
        return out
    }
}

extension BlobDigest {
    /// A digest from a shared record: a record that names none is reported, never trusted.
    init(record text: String, key: SharedKey) throws(StoreError) {
        guard let digest = BlobDigest(canonical: text) else { throw .index("shared record \(key) holds a malformed digest '\(text)'") }
        self = digest
    }
}
