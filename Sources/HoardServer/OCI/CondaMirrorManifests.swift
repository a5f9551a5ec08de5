import Foundation
import HoardConda
import HoardCondaOCI
import HoardOCI
import HoardStore
import Synchronization

/// The mirror's manifests, built by HoardCondaOCI (the builder `hoard sync` and `hoard export`
/// use too, so a package has one digest wherever it is seen) from the repodata snapshot. Same
/// snapshot, same bytes: no clock is read, creation times come from the snapshot (repodata) or
/// the record (packages), so a digest stays valid across calls and restarts.
enum CondaMirrorManifests {
    /// The repodata manifest: the `repodata.json` and `.zst` the conda front serves for this
    /// snapshot, and (§1.5) the shard index it serves when the channel has one.
    static func repodata(_ snapshot: DocumentSnapshot, shardIndex: DocumentSnapshot?) -> CondaOCIArtifact {
        CondaOCIManifests.repodata(
            channel: snapshot.key.channel, subdir: snapshot.key.subdir,
            json: CondaOCIBlob(digest: snapshot.served.digest, size: snapshot.served.size),
            zst: snapshot.zst.map { CondaOCIBlob(digest: $0.digest, size: $0.size) },
            shardIndex: shardIndex.map { CondaOCIBlob(digest: $0.served.digest, size: $0.served.size) },
            creationTime: creationTime(snapshot))
    }

    /// conda-oci-mirror's dated repodata tag (`YYYY.MM.DD.HH.MM`) for this snapshot.
    static func datedTag(_ snapshot: DocumentSnapshot) -> String { creationTime(snapshot).value }

    private static func creationTime(_ snapshot: DocumentSnapshot) -> CondaCreationTime {
        CondaOCILayout.repodataCreationTime(upstreamLastModified: snapshot.row.upstreamLastModified, fetchedAt: snapshot.row.fetchedAt)
    }

    /// The archives of `tag` in a package repository that can be layers, `.conda` first; nil
    /// when the channel has no such package. Records left out are handed to `skipped`.
    static func group(_ catalog: CondaMirrorCatalog, component: String, tag: String, skipped: (CondaOCISkip) -> Void = { _ in })
        -> CondaOCIPackageGroup?
    {
        var packages: [CondaOCIPackage] = []
        for item in catalog.archives(of: component, tag: tag) {
            switch CondaOCIPackage.from(filename: item.filename, record: item.record) {
            case .success(let package): packages.append(package)
            case .failure(let skip): skipped(skip)
            }
        }
        let (groups, invalid) = CondaOCILayout.group(packages)
        invalid.forEach(skipped)
        return groups.first
    }
}

/// Manifests the mirror handed out, by repository and digest, so a client that got one by tag
/// can fetch it again by digest. Bounded; a miss re-synthesizes (the bytes are deterministic).
final class CondaMirrorManifestCache: Sendable {
    private struct Key: Hashable {
        let repository: String
        let digest: OCIDigest
    }

    private let manifests = Mutex<[Key: BuiltManifest]>([:])
    static let capacity = 4096

    func remember(_ manifest: BuiltManifest, in repository: String) {
        manifests.withLock { manifests in
            if manifests.count >= Self.capacity { manifests.removeAll() }
            manifests[Key(repository: repository, digest: manifest.digest)] = manifest
        }
    }

    func manifest(_ digest: OCIDigest, in repository: String) -> BuiltManifest? {
        manifests.withLock { $0[Key(repository: repository, digest: digest)] }
    }
}

/// Why the mirror could not describe something the channel lists.
enum CondaMirrorError: Error, Sendable, CustomStringConvertible {
    case badRecord(component: String, tag: String, reason: String)
    case invalidNamespace(String, reason: String)

    var description: String {
        switch self {
        case .badRecord(let component, let tag, let reason):
            "the repodata record of \(component):\(tag) cannot be described as an OCI manifest: \(reason)"
        case .invalidNamespace(let namespace, let reason):
            "the OCI conda namespace \"\(namespace)\" (--oci-conda-namespace, [oci] conda_namespace) is not a valid repository path: \(reason)"
        }
    }
}
