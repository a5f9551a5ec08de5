import HoardHTTP
import HoardDigest
import HoardStore

/// The part of the store's index an export carries beside the OCI artifacts, so that an import
/// rebuilds the store as it was: every document row (validators, the document as fetched and as
/// served), every file name, every info layer row of a channel. One JSON layer
/// (`application/vnd.hoard.store-index.v1+json`) of `<channel>/hoard-store-index:latest`.
struct StoreIndexDocument: Codable, Sendable {
    static let mediaType = "application/vnd.hoard.store-index.v1+json"
    static let leaf = "hoard-store-index"
    static let version = 1

    struct Document: Codable, Sendable {
        var label: String
        var subdir: String
        var name: String
        var digest: String
        var served_digest: String?
        var zst_digest: String?
        var upstream_url: String?
        var upstream_etag: String?
        var upstream_last_modified: String?
        var upstream_cache_control: String?
        var upstream_base_url: String?
        var upstream_shards_base_url: String?
        var fetched_at: Double
        var validated_at: Double
    }

    struct File: Codable, Sendable {
        var label: String
        var subdir: String
        var filename: String
        var digest: String
    }

    struct InfoLayers: Codable, Sendable {
        var archive: String
        var subdir: String
        var recipe: Int
        var info_tar_gz: String
        var info_tar_gz_size: Int64
        var index_json: String
        var index_json_size: Int64
    }

    var version: Int
    var channel: String
    var documents: [Document]
    var files: [File]
    var info_layers: [InfoLayers]

    /// Every blob the rows name.
    var digests: Set<String> {
        var all = Set<String>()
        for d in documents { all.insert(d.digest); d.served_digest.map { _ = all.insert($0) }; d.zst_digest.map { _ = all.insert($0) } }
        for f in files { all.insert(f.digest) }
        return all
    }
}

extension StoreIndexDocument.Document {
    init(_ row: RepodataRow) {
        self.init(
            label: row.label, subdir: row.subdir, name: row.name, digest: row.digest.hex, served_digest: row.servedDigest?.hex,
            zst_digest: row.zstDigest?.hex, upstream_url: Self.withoutSecret(row.upstreamURL), upstream_etag: row.upstreamETag,
            upstream_last_modified: row.upstreamLastModified, upstream_cache_control: row.upstreamCacheControl,
            upstream_base_url: Self.withoutSecret(row.upstreamBaseURL),
            upstream_shards_base_url: Self.withoutSecret(row.upstreamShardsBaseURL), fetched_at: row.fetchedAt,
            validated_at: row.validatedAt)
    }

    /// An archive travels (to an air-gapped site, say): an upstream URL carrying a credential
    /// (`/t/TOKEN/`, `user:password@`) is left out rather than shipped. Without it the importing
    /// hoard uses its channel's configured URL; its first revalidation is a full fetch, not a 304.
    static func withoutSecret(_ url: String?) -> String? {
        guard let url, SecretRedaction.redact(url) == url else { return nil }
        return url
    }

    func row(channel: String) -> RepodataRow? {
        guard let digest = BlobDigest(canonical: digest) else { return nil }
        func optional(_ text: String?) -> (ok: Bool, value: BlobDigest?) {
            guard let text else { return (true, nil) }
            guard let d = BlobDigest(canonical: text) else { return (false, nil) }
            return (true, d)
        }
        let served = optional(served_digest)
        let zst = optional(zst_digest)
        guard served.ok, zst.ok, fetched_at.isFinite, validated_at.isFinite else { return nil }
        return RepodataRow(
            channel: channel, label: label, subdir: subdir, name: name, digest: digest, servedDigest: served.value, zstDigest: zst.value,
            upstreamURL: upstream_url, upstreamETag: upstream_etag, upstreamLastModified: upstream_last_modified,
            upstreamCacheControl: upstream_cache_control, upstreamBaseURL: upstream_base_url, upstreamShardsBaseURL: upstream_shards_base_url,
            fetchedAt: fetched_at, validatedAt: validated_at)
    }
}
