import Foundation

/// conda-oci-mirror's `creationTime` annotation: `YYYY.MM.DD.HH.MM` in UTC (not RFC 3339).
/// Passed in, never read from the clock here, so the same inputs give the same manifest bytes.
public struct CondaCreationTime: Hashable, Sendable {
    public let value: String

    public init(_ date: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        func two(_ n: Int?) -> String { let v = n ?? 0; return v < 10 ? "0\(v)" : "\(v)" }
        value = "\(c.year ?? 1970).\(two(c.month)).\(two(c.day)).\(two(c.hour)).\(two(c.minute))"
    }

    /// An already formatted value (e.g. copied from an existing manifest).
    public init(verbatim: String) { value = verbatim }
}

/// A manifest hoard made: the exact bytes to store and serve, and their digest.
public struct BuiltManifest: Hashable, Sendable {
    public let bytes: [UInt8]
    public let digest: OCIDigest
    public var size: Int { bytes.count }
    public let mediaType: String
}

/// Synthesises conda-oci-mirror-shaped manifests (wire contract §1.3) with stable bytes:
/// fixed key order, compact JSON, no clock reads.
///
/// Shape kept within what oras-py 0.1.14 accepts: no `artifactType`, no `subject`, config is the
/// empty blob typed `application/vnd.unknown.config.v1+json`, manifest `annotations` is `{}`.
public enum CondaManifestBuilder {
    /// A blob to list as a layer.
    public struct Blob: Hashable, Sendable {
        public var digest: OCIDigest
        public var size: Int64

        public init(digest: OCIDigest, size: Int64) {
            self.digest = digest
            self.size = size
        }
    }

    /// The package archive layer. `digest` must be the sha256 of the file (= repodata `sha256`).
    /// `md5` nil leaves the `org.conda.md5` annotation out (a record without md5).
    public struct Archive: Hashable, Sendable {
        public var filename: String
        public var blob: Blob
        public var md5: String?

        public init(filename: String, blob: Blob, md5: String?) {
            self.filename = filename
            self.blob = blob
            self.md5 = md5
        }
    }

    /// The optional `info/` layers; hoard may only have the archive.
    public struct InfoLayers: Hashable, Sendable {
        public var infoTarGz: Blob?
        public var indexJSON: Blob?

        public init(infoTarGz: Blob? = nil, indexJSON: Blob? = nil) {
            self.infoTarGz = infoTarGz
            self.indexJSON = indexJSON
        }
    }

    /// The config descriptor every conda manifest carries (size 0, sha256 of "").
    public static let emptyConfig = OCIDescriptor(
        mediaType: CondaOCINaming.MediaType.unknownConfig, digest: .emptySHA256, size: 0)

    /// Package manifest. `archives` holds one archive, or two when a tag keeps both formats
    /// (conda-oci-mirror re-lists the other format's layer); info layers describe `archives[0]`.
    public static func packageManifest(archives: [Archive], info: InfoLayers = InfoLayers(), creationTime: CondaCreationTime)
        throws(CondaManifestError) -> BuiltManifest
    {
        guard let primary = archives.first else { throw .noArchive }
        var layers: [Layer] = []
        for archive in archives {
            guard let format = CondaOCINaming.ArchiveFormat.allCases.first(where: { archive.filename.hasSuffix($0.rawValue) }) else {
                throw .notAnArchive(archive.filename)
            }
            var annotations: [(String, String)] = []
            if let md5 = archive.md5 {
                guard md5.utf8.count == 32, md5.utf8.allSatisfy(OCIDigest.isLowerHex) else { throw .md5Invalid(md5) }
                annotations.append(("org.conda.md5", md5))
            }
            annotations += [("creationTime", creationTime.value), ("org.opencontainers.image.title", archive.filename)]
            layers.append(Layer(mediaType: format.mediaType, blob: archive.blob, annotations: annotations))
        }
        let stem = CondaOCINaming.ArchiveFormat.allCases.reduce(primary.filename) { name, f in
            name.hasSuffix(f.rawValue) ? String(name.dropLast(f.rawValue.count)) : name
        }
        if let tgz = info.infoTarGz {
            layers.append(
                Layer(
                    mediaType: CondaOCINaming.MediaType.infoTarGz, blob: tgz,
                    annotations: [("creationTime", creationTime.value), ("org.opencontainers.image.title", "\(stem)/info.tar.gz")]))
        }
        if let index = info.indexJSON {
            layers.append(
                Layer(
                    mediaType: CondaOCINaming.MediaType.infoIndexJSON, blob: index,
                    annotations: [
                        ("creationTime", creationTime.value), ("org.opencontainers.image.title", "\(stem)/info/index.json"),
                    ]))
        }
        return build(layers)
    }

    /// Repodata manifest for `<ch>/<subdir>/repodata.json` (tags `latest` and the dated one):
    /// `repodata.json`, optional `repodata.json.zst`, optional shard index layer.
    public static func repodataManifest(json: Blob, zst: Blob? = nil, shardIndex: Blob? = nil, creationTime: CondaCreationTime)
        -> BuiltManifest
    {
        var layers = [
            Layer(
                mediaType: CondaOCINaming.MediaType.repodataJSON, blob: json,
                annotations: [("creationTime", creationTime.value), ("org.opencontainers.image.title", "repodata.json")])
        ]
        if let zst {
            layers.append(
                Layer(
                    mediaType: CondaOCINaming.MediaType.repodataJSONZst, blob: zst,
                    annotations: [("creationTime", creationTime.value), ("org.opencontainers.image.title", "repodata.json.zst")]))
        }
        if let shardIndex {
            layers.append(
                Layer(
                    mediaType: CondaOCINaming.MediaType.shardIndex, blob: shardIndex,
                    annotations: [
                        ("creationTime", creationTime.value),
                        ("org.opencontainers.image.title", "repodata_shards.msgpack.zst"),
                    ]))
        }
        return build(layers)
    }

    /// One shard (`<ch>/<subdir>/repodata.json/shards:<sha256 hex>`), title `shards/<hex>.msgpack.zst`.
    public static func shardManifest(shard: Blob, creationTime: CondaCreationTime) -> BuiltManifest {
        build([
            Layer(
                mediaType: CondaOCINaming.MediaType.shard, blob: shard,
                annotations: [
                    ("creationTime", creationTime.value),
                    ("org.opencontainers.image.title", "shards/\(shard.digest.hex).msgpack.zst"),
                ])
        ])
    }

    /// A layer of a manifest in this shape.
    public struct Layer {
        public var mediaType: String
        public var blob: Blob
        /// Ordered, as conda-oci-mirror writes them.
        public var annotations: [(String, String)]

        public init(mediaType: String, blob: Blob, annotations: [(String, String)]) {
            self.mediaType = mediaType
            self.blob = blob
            self.annotations = annotations
        }
    }

    /// A manifest of the same shape with other layers (hoard's own artifacts, such as the store
    /// index an export carries).
    public static func manifest(_ layers: [Layer]) -> BuiltManifest { build(layers) }

    /// Key order of §1.3: schemaVersion, mediaType, config, layers, annotations; descriptors as
    /// mediaType, size, digest, annotations.
    private static func build(_ layers: [Layer]) -> BuiltManifest {
        var w = JSONWriter()
        w.object { o in
            o.int("schemaVersion", 2)
            o.string("mediaType", OCIMediaType.imageManifest)
            o.object("config") { c in
                c.string("mediaType", emptyConfig.mediaType)
                c.int("size", emptyConfig.size)
                c.string("digest", emptyConfig.digest.description)
            }
            o.array("layers") { a in
                for layer in layers {
                    a.object { l in
                        l.string("mediaType", layer.mediaType)
                        l.int("size", layer.blob.size)
                        l.string("digest", layer.blob.digest.description)
                        l.object("annotations") { an in
                            for (k, v) in layer.annotations { an.string(k, v) }
                        }
                    }
                }
            }
            o.object("annotations") { _ in }
        }
        let bytes = w.bytes
        return BuiltManifest(bytes: bytes, digest: OCIDigest.compute(.sha256, of: bytes), mediaType: OCIMediaType.imageManifest)
    }
}

public enum CondaManifestError: Error, Equatable, Sendable, CustomStringConvertible {
    case noArchive
    case notAnArchive(String)
    case md5Invalid(String)

    public var message: String {
        switch self {
        case .noArchive: "a package manifest needs at least one archive layer"
        case .notAnArchive(let f): "\"\(f)\" is not a .conda or .tar.bz2 file name"
        case .md5Invalid(let m): "md5 \"\(m)\" must be 32 lowercase hex characters"
        }
    }

    public var description: String { message }
}
