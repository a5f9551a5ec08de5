import HoardConda
import HoardStore
import HoardUpstream

/// Where a conda channel's documents and files come from: an HTTP channel, or a
/// conda-oci-mirror layout in a registry. The conda front and the document cache ask through
/// this seam and never know which kind they talk to.
protocol ChannelUpstream: Sendable {
    /// Fetches a document, conditionally when `current` (the copy hoard holds) came from here.
    func fetchDocument(_ key: DocumentKey, current: DocumentSnapshot?) async throws -> DocumentFetch
    /// How to download a package; `expected` is what its bytes must hash to, when known;
    /// `baseURL` the repodata's upstream `base_url`, if it had one.
    func packageSource(label: String, subdir: String, filename: CondaFilename, expected: PackageExpectations.Expectation?, baseURL: String?)
        -> FillSource
    /// How to download a CEP-16 shard; `shardsDirectory` is where the subdir's upstream shard
    /// index puts its shards (`ShardLocation.directory`), nil when it names nowhere fetchable.
    func shardSource(label: String, subdir: String, hex: String, shardsDirectory: String?) throws -> FillSource
}

/// The validators of an upstream document: what the next conditional request sends.
struct DocumentValidators: Sendable {
    var etag: String?
    var lastModified: String?
    var cacheControl: String?

    init(etag: String? = nil, lastModified: String? = nil, cacheControl: String? = nil) {
        self.etag = etag
        self.lastModified = lastModified
        self.cacheControl = cacheControl
    }

    init(_ response: UpstreamResponse) {
        self.init(etag: response.etag, lastModified: response.lastModified, cacheControl: response.cacheControl)
    }
}

/// An upstream's answer for a document.
enum DocumentFetch: Sendable {
    /// The copy hoard holds is current.
    case notModified(DocumentValidators)
    /// A new body: `source` names the variant (what `current.row.upstreamURL` is compared with),
    /// `zstd` whether it is compressed, `digest` what it must hash to, when known.
    case body(UpstreamResponse, source: String, zstd: Bool, digest: BlobDigest?, validators: DocumentValidators)
}
