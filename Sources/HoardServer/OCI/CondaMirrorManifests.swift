import Foundation
import HoardConda
import HoardOCI
import HoardStore
import Synchronization

/// Synthesizes the mirror's manifests from repodata. Same snapshot, same bytes: no clock is
/// read, creation times come from the snapshot (repodata) or the record (packages), so a digest
/// stays valid across calls and restarts until upstream changes.
enum CondaMirrorManifests {
    /// The repodata manifest: the `repodata.json` and `.zst` the conda front serves for this
    /// snapshot, so both fronts hand out the same bytes.
    static func repodata(_ snapshot: DocumentSnapshot) throws -> BuiltManifest {
        CondaManifestBuilder.repodataManifest(
            json: try blob(snapshot.served.digest, size: snapshot.served.size),
            zst: try snapshot.zst.map { try blob($0.digest, size: $0.size) },
            creationTime: creationTime(snapshot))
    }

    /// conda-oci-mirror's dated repodata tag (`YYYY.MM.DD.HH.MM`) for this snapshot.
    static func datedTag(_ snapshot: DocumentSnapshot) -> String { creationTime(snapshot).value }

    /// The package manifest of `tag` in a package repository; nil when the channel has no such
    /// package (or its records lack sha256 or a size a descriptor can carry, which a layer needs).
    /// Records left out are handed to `skipped`, so the caller can say why.
    static func package(
        _ catalog: CondaMirrorCatalog, component: String, tag: String, skipped: (String, String) -> Void = { _, _ in }
    ) throws -> BuiltManifest? {
        var described: [(filename: String, record: PackageDigest, sha256: BlobDigest, size: Int64)] = []
        for item in catalog.archives(of: component, tag: tag) {
            guard let sha256 = item.record.sha256 else { continue }
            // repodata's sizes are unsigned JSON integers; a descriptor's size is an Int64.
            guard let size = item.record.size.flatMap({ Int64(exactly: $0) }) else {
                if let size = item.record.size { skipped(item.filename, "its size \(size) is not a possible file size") }
                continue
            }
            described.append((item.filename, item.record, sha256, size))
        }
        guard let first = described.first else { return nil }
        let archives = try described.map { item in
            CondaManifestBuilder.Archive(filename: item.filename, blob: try blob(item.sha256.hex, size: item.size), md5: item.record.md5?.hex)
        }
        // The record's own time, so the digest does not change with unrelated repodata updates;
        // one past what a date can say (a hostile or broken record) counts as absent.
        let seconds = first.record.timestampSeconds.flatMap { Self.validSeconds.contains($0) ? $0 : nil } ?? 0
        do {
            return try CondaManifestBuilder.packageManifest(
                archives: archives, creationTime: CondaCreationTime(Date(timeIntervalSince1970: seconds)))
        } catch {
            throw CondaMirrorError.badRecord(component: component, tag: tag, reason: error.message)
        }
    }

    /// Record times from 1970 up to the year 9999: what a `YYYY.MM.DD.HH.MM` tag can carry.
    static let validSeconds: ClosedRange<Double> = 0...253_402_300_799

    private static func creationTime(_ snapshot: DocumentSnapshot) -> CondaCreationTime {
        // Upstream's Last-Modified (else when hoard fetched it): kept in the index, so it survives
        // restarts, and unchanged by revalidations that only confirm the copy.
        let seconds = snapshot.lastModified
        return CondaCreationTime(Date(timeIntervalSince1970: validSeconds.contains(seconds) ? seconds : snapshot.row.fetchedAt))
    }

    private static func blob(_ digest: BlobDigest, size: Int64) throws -> CondaManifestBuilder.Blob {
        try blob(digest.hex, size: size)
    }

    private static func blob(_ hex: String, size: Int64) throws -> CondaManifestBuilder.Blob {
        do {
            return CondaManifestBuilder.Blob(digest: try OCIDigest(parsing: "sha256:" + hex), size: size)
        } catch {
            throw CondaMirrorError.badRecord(component: "", tag: "", reason: error.message)
        }
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
