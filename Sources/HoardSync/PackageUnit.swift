import Foundation
import HoardCondaOCI
import HoardConda
import HoardOCI
import HoardStore

/// One package tag to publish, as HoardCondaOCI builds it for every producer (the OCI view, sync,
/// export): `<channel>/<subdir>/<name'>:<escaped version-build>`, its manifest bytes and layers
/// (the archives the store holds, then the `info.tar.gz` and `info/index.json` layers).
struct PackageUnit: Sendable {
    let artifact: CondaOCIArtifact
    /// The first archive, whose info layers the manifest lists (to make them again if evicted).
    let first: CondaOCIPackage?

    /// `<channel>/<subdir>/<name'>`, below the registry namespace.
    var repository: String { artifact.path }
    var tag: String { artifact.tags.first?.value ?? "" }
    var label: String { "\(repository):\(tag)" }
    /// Every blob the manifest lists, archives and info layers (all from the store).
    var bytes: Int64 { artifact.layers.reduce(0) { $0 + $1.size } }

    /// The archive files the tag holds: filename (the layer title) → sha256.
    var archives: [String: BlobDigest] {
        var out: [String: BlobDigest] = [:]
        for layer in artifact.layers where CondaOCINaming.ArchiveFormat(mediaType: layer.mediaType) != nil {
            out[layer.title] = layer.digest
        }
        return out
    }
}

/// One subdir's work: the package tags to publish (what the store holds), the files published
/// before that this run leaves alone, and what cannot be published.
struct SubdirPlan: Sendable {
    var units: [PackageUnit] = []
    /// Published files (same sha256 as the store's repodata) that no unit of this run covers:
    /// they stay listed as long as the registry holds them.
    var carried: [String: PackageDigest] = [:]
    var skipped: [String] = []

    init(artifacts: CondaOCISubdirPlan, records: [String: PackageDigest], published: [String: PackageDigest]) {
        for artifact in artifacts.packages {
            let firstArchive = artifact.layers.first { CondaOCINaming.ArchiveFormat(mediaType: $0.mediaType) != nil }
            let first = firstArchive.flatMap { layer in records[layer.title].flatMap { try? CondaOCIPackage.from(filename: layer.title, record: $0).get() } }
            units.append(PackageUnit(artifact: artifact, first: first))
        }
        units.sort { $0.label < $1.label }
        skipped = artifacts.skipped.map { "\(artifacts.channel)/\(artifacts.subdir)/\($0)" }
        carried = Self.carried(
            records: records, published: published, covered: Set(units.map(\.label)), channel: artifacts.channel, subdir: artifacts.subdir)
    }

    /// Published files whose record is unchanged and whose tag no unit re-publishes.
    static func carried(records: [String: PackageDigest], published: [String: PackageDigest], covered: Set<String>, channel: String, subdir: String)
        -> [String: PackageDigest]
    {
        var out: [String: PackageDigest] = [:]
        for (filename, record) in published {
            guard let sha = record.sha256, let current = records[filename], current.sha256 == sha,
                let parsed = try? CondaFilename(filename), let tag = try? CondaOCINaming.tag(version: parsed.version, build: parsed.build)
            else { continue }
            let label = "\(channel)/\(subdir)/\(CondaOCINaming.repositoryComponent(forPackage: parsed.name)):\(tag.value)"
            if !covered.contains(label) { out[filename] = current }
        }
        return out
    }
}
