import Foundation
import HoardConda
import HoardOCI
import HoardStore

/// One package tag to publish: `<channel>/<subdir>/<name'>:<escaped version-build>`, with the
/// archives (one per format) its manifest lists.
struct PackageUnit: Sendable {
    struct Archive: Sendable {
        let filename: String
        let sha256: BlobDigest
        let size: Int64
        let md5: String?
        let timestampSeconds: Double?
        /// Whether the store holds the file (else its blob must already be in the registry).
        let inStore: Bool
    }

    let subdir: String
    /// `<channel>/<subdir>/<name'>`, below the registry namespace.
    let repository: String
    let tag: String
    /// `.conda` first, then `.tar.bz2`, as the OCI view lists them.
    var archives: [Archive]

    var label: String { "\(repository):\(tag)" }
    var storeBytes: Int64 { archives.filter(\.inStore).reduce(0) { $0 + $1.size } }

    /// Record times from 1970 to year 9999 (what `YYYY.MM.DD.HH.MM` can carry), as the view reads them.
    static let validSeconds: ClosedRange<Double> = 0...253_402_300_799

    /// The manifest, byte for byte what hoard's OCI view synthesises for the same archives.
    func manifest() throws -> BuiltManifest {
        let seconds = archives.first?.timestampSeconds.flatMap { Self.validSeconds.contains($0) ? $0 : nil } ?? 0
        let layers = try archives.map { archive in
            CondaManifestBuilder.Archive(filename: archive.filename, blob: .init(digest: try ociDigest(archive.sha256), size: archive.size), md5: archive.md5)
        }
        return try CondaManifestBuilder.packageManifest(archives: layers, creationTime: CondaCreationTime(Date(timeIntervalSince1970: seconds)))
    }
}

/// Groups a subdir's records into package tags, keeping only what the store (or the registry,
/// per `published`) holds; reports what cannot be published.
struct SubdirPlan: Sendable {
    var units: [PackageUnit] = []
    /// Published files that this run leaves alone (not in the store, or filtered out), kept in
    /// the inventory as long as the registry holds them.
    var carried: [String: PackageDigest] = [:]
    var skipped: [String] = []

    init(_ subdir: StoreSubdir, options: SyncOptions, published: [String: PackageDigest]) {
        var groups: [String: PackageUnit] = [:]
        for (filename, record) in subdir.records {
            guard let parsed = try? CondaOCINaming.PackageFilename(filename) else { continue }
            guard options.wants(name: parsed.name, version: parsed.version) else {
                if let p = published[filename], p.sha256 == record.sha256 { carried[filename] = record }
                continue
            }
            let tag: String
            do { tag = try CondaOCINaming.tag(version: parsed.version, build: parsed.build).value } catch {
                skipped.append("\(subdir.channel)/\(subdir.subdir)/\(filename): \(error)")
                continue
            }
            guard let sha = record.sha256, let size = record.size.flatMap({ Int64(exactly: $0) }) else {
                if subdir.stored[filename] != nil {
                    skipped.append("\(subdir.channel)/\(subdir.subdir)/\(filename): its repodata record has no sha256 or no usable size")
                }
                continue
            }
            var inStore = false
            if let stored = subdir.stored[filename] {
                if stored.digest == sha && stored.size == size {
                    inStore = true
                } else {
                    skipped.append("\(subdir.channel)/\(subdir.subdir)/\(filename): the stored file is not the one the current repodata describes")
                }
            }
            let alreadyPublished = published[filename].map { $0.sha256 == sha } ?? false
            guard inStore || alreadyPublished else { continue }
            let archive = PackageUnit.Archive(
                filename: filename, sha256: sha, size: size, md5: record.md5?.hex, timestampSeconds: record.timestampSeconds,
                inStore: inStore)
            let component = CondaOCINaming.repositoryComponent(forPackage: parsed.name)
            let key = component + ":" + tag
            groups[key, default: PackageUnit(subdir: subdir.subdir, repository: "\(subdir.channel)/\(subdir.subdir)/\(component)", tag: tag, archives: [])]
                .archives.append(archive)
        }
        for var unit in groups.values {
            unit.archives.sort { a, b in a.filename.hasSuffix(".conda") && !b.filename.hasSuffix(".conda") }
            // A tag only the registry holds (nothing of it in the store) is carried as published.
            if !unit.archives.contains(where: \.inStore) {
                for a in unit.archives { carried[a.filename] = subdir.records[a.filename] }
                continue
            }
            units.append(unit)
        }
        units.sort { $0.label < $1.label }
        skipped.sort()
    }
}

/// The OCI form of a store digest (always sha256).
func ociDigest(_ digest: BlobDigest) throws -> OCIDigest {
    do { return try OCIDigest(parsing: digest.description) } catch { throw SyncError.store("\(digest) is not an OCI digest: \(error)") }
}
