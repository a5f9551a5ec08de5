import HoardDigest
import HoardOCI

/// Artifacts from facts already known (no store, no clock): the one place that turns packages,
/// repodata and shards into the manifests of the conda-oci-mirror layout (wire contract §1.3-1.5).
/// The read-only view, sync and export all build through here, so a package has one manifest
/// digest wherever it is seen.
public enum CondaOCIManifests {
    /// A package tag's artifact: the archive layer(s) then the info layers of the first archive.
    public static func package(channel: String, subdir: String, group: CondaOCIPackageGroup, info: CondaOCIInfoLayers)
        throws(CondaOCIError) -> CondaOCIArtifact
    {
        guard let first = group.archives.first else { throw .manifest(group.component, .noArchive) }
        let archives = group.archives.map { package in
            CondaManifestBuilder.Archive(filename: package.filename.rawValue, blob: blob(package.sha256, package.size), md5: package.md5)
        }
        let manifest: BuiltManifest
        do {
            manifest = try CondaManifestBuilder.packageManifest(
                archives: archives, info: .init(infoTarGz: blob(info.infoTarGz.digest, info.infoTarGz.size), indexJSON: blob(info.indexJSON.digest, info.indexJSON.size)),
                creationTime: CondaOCILayout.creationTime(of: group.archives))
        } catch {
            throw .manifest(first.filename.rawValue, error)
        }
        var layers = group.archives.map { package in
            CondaOCILayer(
                mediaType: package.filename.format == .conda ? CondaOCINaming.MediaType.packageConda : CondaOCINaming.MediaType.packageTarBz2,
                digest: package.sha256, size: package.size, title: package.filename.rawValue)
        }
        layers.append(
            CondaOCILayer(
                mediaType: CondaOCINaming.MediaType.infoTarGz, digest: info.infoTarGz.digest, size: info.infoTarGz.size,
                title: "\(first.filename.stem)/info.tar.gz"))
        layers.append(
            CondaOCILayer(
                mediaType: CondaOCINaming.MediaType.infoIndexJSON, digest: info.indexJSON.digest, size: info.indexJSON.size,
                title: "\(first.filename.stem)/info/index.json"))
        return CondaOCIArtifact(
            kind: .package, channel: channel, subdir: subdir, leaf: group.component, tags: [group.tag], manifest: manifest, layers: layers)
    }

    /// `<channel>/<subdir>/repodata.json`, tags `latest` and the dated one: layers repodata.json,
    /// repodata.json.zst and (§1.5) the shard index.
    public static func repodata(
        channel: String, subdir: String, json: CondaOCIBlob, zst: CondaOCIBlob?, shardIndex: CondaOCIBlob?, creationTime: CondaCreationTime
    ) -> CondaOCIArtifact {
        let manifest = CondaManifestBuilder.repodataManifest(
            json: blob(json.digest, json.size), zst: zst.map { blob($0.digest, $0.size) },
            shardIndex: shardIndex.map { blob($0.digest, $0.size) }, creationTime: creationTime)
        var layers = [CondaOCILayer(mediaType: CondaOCINaming.MediaType.repodataJSON, digest: json.digest, size: json.size, title: "repodata.json")]
        if let zst {
            layers.append(CondaOCILayer(mediaType: CondaOCINaming.MediaType.repodataJSONZst, digest: zst.digest, size: zst.size, title: "repodata.json.zst"))
        }
        if let shardIndex {
            layers.append(
                CondaOCILayer(
                    mediaType: CondaOCINaming.MediaType.shardIndex, digest: shardIndex.digest, size: shardIndex.size,
                    title: "repodata_shards.msgpack.zst"))
        }
        return CondaOCIArtifact(
            kind: .repodata, channel: channel, subdir: subdir, leaf: CondaOCILayout.repodataLeaf,
            tags: [CondaOCINaming.repodataTag, CondaOCINaming.repodataSnapshotTag(creationTime)], manifest: manifest, layers: layers)
    }

    /// `<channel>/<subdir>/repodata.json/shards:<hex>`: one layer, the shard.
    public static func shard(channel: String, subdir: String, shard: CondaOCIBlob) -> CondaOCIArtifact {
        let manifest = CondaManifestBuilder.shardManifest(shard: blob(shard.digest, shard.size), creationTime: CondaOCILayout.shardCreationTime)
        // 64 lowercase hex digits always pass the tag grammar.
        let tag = (try? Tag(shard.digest.hex)) ?? CondaOCINaming.repodataTag
        return CondaOCIArtifact(
            kind: .shard, channel: channel, subdir: subdir, leaf: CondaOCILayout.shardLeaf, tags: [tag], manifest: manifest,
            layers: [
                CondaOCILayer(
                    mediaType: CondaOCINaming.MediaType.shard, digest: shard.digest, size: shard.size,
                    title: "shards/\(shard.digest.hex).msgpack.zst")
            ])
    }

    static func blob(_ digest: BlobDigest, _ size: Int64) -> CondaManifestBuilder.Blob {
        CondaManifestBuilder.Blob(digest: OCIDigest(algorithm: .sha256, hashBytes: digest.bytes), size: size)
    }
}
