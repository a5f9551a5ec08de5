import HoardDigest
import HoardOCI

/// One layer of an artifact: a blob to push or export, named by its sha256.
public struct CondaOCILayer: Sendable, Hashable {
    public let mediaType: String
    public let digest: BlobDigest
    public let size: Int64
    /// `org.opencontainers.image.title`: the relative path pull-cache writes it to.
    public let title: String

    public init(mediaType: String, digest: BlobDigest, size: Int64, title: String) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.title = title
    }
}

/// One manifest of the conda-oci-mirror layout with everything a producer needs: where it goes
/// (`<channel>/<subdir>/<leaf>` under the registry namespace), its tags, its exact bytes, and
/// the blobs it lists. The config is always the empty blob (`CondaManifestBuilder.emptyConfig`).
public struct CondaOCIArtifact: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case package
        case repodata
        case shard
    }

    public let kind: Kind
    public let channel: String
    public let subdir: String
    /// `<name'>`, `repodata.json` or `repodata.json/shards`.
    public let leaf: String
    /// Package: its one tag; repodata: `latest` then the dated tag; shard: the shard's hex.
    public let tags: [Tag]
    public let manifest: BuiltManifest
    public let layers: [CondaOCILayer]

    public init(kind: Kind, channel: String, subdir: String, leaf: String, tags: [Tag], manifest: BuiltManifest, layers: [CondaOCILayer]) {
        self.kind = kind
        self.channel = channel
        self.subdir = subdir
        self.leaf = leaf
        self.tags = tags
        self.manifest = manifest
        self.layers = layers
    }

    /// `<channel>/<subdir>/<leaf>`, without a namespace.
    public var path: String { "\(channel)/\(subdir)/\(leaf)" }

    /// The repository under a registry namespace (`channel-mirrors`; may be empty).
    public func repository(prefix: String) throws(CondaOCINamingError) -> RepositoryName {
        let full = prefix.isEmpty ? path : "\(prefix)/\(path)"
        do { return try RepositoryName(full) } catch { throw .repositoryInvalid(error) }
    }
}

/// A blob by sha256 and size (a document, a shard, an info layer).
public struct CondaOCIBlob: Sendable, Hashable {
    public let digest: BlobDigest
    public let size: Int64

    public init(digest: BlobDigest, size: Int64) {
        self.digest = digest
        self.size = size
    }
}

/// The info layers of one package archive: digests and sizes (the blobs may have been evicted;
/// they are made again to the same digests when asked for).
public struct CondaOCIInfoLayers: Sendable, Hashable {
    public let infoTarGz: CondaOCIBlob
    public let indexJSON: CondaOCIBlob

    public init(infoTarGz: CondaOCIBlob, indexJSON: CondaOCIBlob) {
        self.infoTarGz = infoTarGz
        self.indexJSON = indexJSON
    }
}

public enum CondaOCIError: Error, Sendable, CustomStringConvertible {
    /// The store does not hold the archive and no way to fetch it was given.
    case archiveNotInStore(String)
    case info(PackageInfoError)
    case manifest(String, CondaManifestError)
    /// A layer made again from its archive came out different from the digest on record (a
    /// different libarchive or zlib); the record now names the new one.
    case layerChanged(filename: String, recorded: BlobDigest, made: BlobDigest)
    case store(String)

    public var description: String {
        switch self {
        case .archiveNotInStore(let f): "\(f) is not in the store, and its info layers are made from it; fetch it first (hoard mirror)"
        case .info(let e): e.description
        case .manifest(let f, let e): "cannot describe \(f) as an OCI manifest: \(e.message)"
        case .layerChanged(let f, let recorded, let made):
            "the info layer of \(f) made again is \(made), not \(recorded) as recorded (libarchive or zlib changed); manifests naming the old digest must be fetched again"
        case .store(let m): m
        }
    }
}
