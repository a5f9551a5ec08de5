import Foundation

/// The conda-oci-mirror layout (as used by ghcr.io/channel-mirrors, mamba and pixi):
/// package `name-version-build.ext` lives at `<ch>/<subdir>/<name'>:<escaped version-build>`.
public enum CondaOCINaming {
    /// Media types of conda artifacts in OCI (conda-oci-mirror 0.3.0 `defaults.py`).
    public enum MediaType {
        public static let packageTarBz2 = "application/vnd.conda.package.v1"
        public static let packageConda = "application/vnd.conda.package.v2"
        public static let infoTarGz = "application/vnd.conda.info.v1.tar+gzip"
        public static let infoIndexJSON = "application/vnd.conda.info.index.v1+json"
        public static let repodataJSON = "application/vnd.conda.repodata.v1+json"
        public static let repodataJSONZst = "application/vnd.conda.repodata.v1+json+zst"
        /// Requested by rattler only; conda-oci-mirror never produces them.
        public static let repodataJSONGzip = "application/vnd.conda.repodata.v1+json+gzip"
        public static let repodataJSONBz2 = "application/vnd.conda.repodata.v1+json+bz2"
        public static let shardIndex = "application/vnd.conda.repodata.shards.v1+msgpack+zst"
        public static let shard = "application/vnd.conda.repodata.shard.v1+msgpack+zst"
        /// Legacy shard index type: read, never written.
        public static let shardIndexLegacy = "application/vnd.conda.repodata.shards.v1+msgpack+zstd"
        /// oras-py's default config type; conda manifests use it with the empty blob.
        public static let unknownConfig = "application/vnd.unknown.config.v1+json"
        /// oras's default for untyped layers, seen in old ghcr mirror content.
        public static let ociLayerTar = "application/vnd.oci.image.layer.v1.tar"
    }

    public enum ArchiveFormat: String, Hashable, Sendable, CaseIterable {
        case conda = ".conda"
        case tarBz2 = ".tar.bz2"

        public var mediaType: String {
            switch self {
            case .conda: MediaType.packageConda
            case .tarBz2: MediaType.packageTarBz2
            }
        }

        public init?(mediaType: String) {
            switch mediaType {
            case MediaType.packageConda: self = .conda
            case MediaType.packageTarBz2: self = .tarBz2
            default: return nil
            }
        }
    }

    /// A package filename split into its parts.
    public struct PackageFilename: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public let version: String
        public let build: String
        public let format: ArchiveFormat

        /// Splits `name-version-build.ext` at the last two dashes (names may contain dashes,
        /// versions and builds may not).
        public init(_ filename: String) throws(CondaOCINamingError) {
            guard let format = ArchiveFormat.allCases.first(where: { filename.hasSuffix($0.rawValue) }) else {
                throw .notAPackage(filename)
            }
            let stem = filename.dropLast(format.rawValue.count)
            guard let buildDash = stem.lastIndex(of: "-") else { throw .notAPackage(filename) }
            let nameVersion = stem[..<buildDash]
            guard let versionDash = nameVersion.lastIndex(of: "-") else { throw .notAPackage(filename) }
            let name = String(nameVersion[..<versionDash])
            let version = String(nameVersion[nameVersion.index(after: versionDash)...])
            let build = String(stem[stem.index(after: buildDash)...])
            guard !name.isEmpty, !version.isEmpty, !build.isEmpty, !filename.contains("/") else {
                throw .notAPackage(filename)
            }
            self.init(name: name, version: version, build: build, format: format)
        }

        public init(name: String, version: String, build: String, format: ArchiveFormat) {
            self.name = name
            self.version = version
            self.build = build
            self.format = format
        }

        public var description: String { "\(name)-\(version)-\(build)\(format.rawValue)" }
    }

    // MARK: names

    /// `_libgcc_mutex` → `zzz_libgcc_mutex`: an OCI path component may not start with `_`.
    public static func repositoryComponent(forPackage name: String) -> String {
        name.hasPrefix("_") ? "zzz" + name : name
    }

    /// Reverse of `repositoryComponent`. A real package named `zzz_...` cannot be told apart; the
    /// layout has the same ambiguity (conda-oci-mirror does not escape it either).
    public static func packageName(fromRepositoryComponent component: String) -> String {
        component.hasPrefix("zzz_") ? String(component.dropFirst(3)) : component
    }

    // MARK: tags

    /// `version-build` → tag: `+`→`__p__`, `!`→`__e__`, `=`→`__eq__`, then the tag grammar is
    /// enforced (conda-oci-mirror skips packages whose tag fails it; so must `sync`).
    public static func tag(version: String, build: String) throws(CondaOCINamingError) -> Tag {
        try tag(versionBuild: version + "-" + build)
    }

    public static func tag(versionBuild: String) throws(CondaOCINamingError) -> Tag {
        let escaped = versionBuild
            .replacingAll("+", with: "__p__")
            .replacingAll("!", with: "__e__")
            .replacingAll("=", with: "__eq__")
        do { return try Tag(escaped) } catch { throw .tagInvalid(versionBuild, error) }
    }

    /// Tag → `version-build`, undoing the escapes in the same order conda-oci-mirror does.
    public static func versionBuild(fromTag tag: String) -> String {
        tag.replacingAll("__p__", with: "+").replacingAll("__e__", with: "!").replacingAll("__eq__", with: "=")
    }

    // MARK: full references

    /// Where a package lives: repository `<prefix>/<channel>/<subdir>/<name'>`, tag.
    public struct PackageReference: Hashable, Sendable {
        public let repository: RepositoryName
        public let tag: Tag
        public let archiveMediaType: String
    }

    /// `prefix` is the registry namespace (`channel-mirrors`), may be empty.
    public static func packageReference(prefix: String = "", channel: String, subdir: String, filename: String)
        throws(CondaOCINamingError) -> PackageReference
    {
        let file = try PackageFilename(filename)
        let repo = try repository(prefix: prefix, channel: channel, subdir: subdir, leaf: repositoryComponent(forPackage: file.name))
        return PackageReference(
            repository: repo, tag: try tag(version: file.version, build: file.build), archiveMediaType: file.format.mediaType)
    }

    /// Reverse: the filename for a package repository component, tag and archive media type.
    public static func packageFilename(repositoryComponent: String, tag: String, format: ArchiveFormat) -> String {
        "\(packageName(fromRepositoryComponent: repositoryComponent))-\(versionBuild(fromTag: tag))\(format.rawValue)"
    }

    /// `<prefix>/<ch>/<subdir>/repodata.json`, tag `latest`.
    public static func repodataRepository(prefix: String = "", channel: String, subdir: String) throws(CondaOCINamingError)
        -> RepositoryName
    {
        try repository(prefix: prefix, channel: channel, subdir: subdir, leaf: "repodata.json")
    }

    public static let repodataTag = try! Tag("latest")

    /// The dated repodata tag `YYYY.MM.DD.HH.MM` (UTC) that conda-oci-mirror pushes beside `latest`.
    public static func repodataSnapshotTag(_ time: CondaCreationTime) -> Tag { try! Tag(time.value) }

    /// `<prefix>/<ch>/<subdir>/repodata.json/shards`, tag = the shard's sha256 hex (0.3.0 layout).
    public static func shardRepository(prefix: String = "", channel: String, subdir: String) throws(CondaOCINamingError)
        -> RepositoryName
    {
        try repository(prefix: prefix, channel: channel, subdir: subdir, leaf: "repodata.json/shards")
    }

    private static func repository(prefix: String, channel: String, subdir: String, leaf: String) throws(CondaOCINamingError)
        -> RepositoryName
    {
        let path = [prefix, channel, subdir, leaf].filter { !$0.isEmpty }.joined(separator: "/")
        do { return try RepositoryName(path) } catch { throw .repositoryInvalid(error) }
    }
}

public enum CondaOCINamingError: Error, Equatable, Sendable, CustomStringConvertible {
    case notAPackage(String)
    case tagInvalid(String, TagError)
    case repositoryInvalid(RepositoryNameError)

    public var message: String {
        switch self {
        case .notAPackage(let f): "\"\(f)\" is not a conda package filename (name-version-build.conda or .tar.bz2)"
        case .tagInvalid(let vb, let e):
            "\"\(vb)\" cannot be an OCI tag even after escaping (\(e.message)); such packages cannot be stored in OCI"
        case .repositoryInvalid(let e): e.message
        }
    }

    public var description: String { message }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.range(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
