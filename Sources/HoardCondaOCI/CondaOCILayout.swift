import Foundation
import HoardConda
import HoardHTTP
import HoardOCI

/// The rules of the conda-oci-mirror layout that are not manifest bytes: where a package goes,
/// which archives share a tag, and the creation times, so that every producer (the read-only
/// view, sync, export) names and dates things the same way.
public enum CondaOCILayout {
    /// Repository leaf and tag of a package (`_x` → `zzz_x`; `+ ! =` escaped). Throws when even
    /// the escaped tag breaks the OCI grammar (such packages are skipped and reported).
    public static func location(of filename: CondaFilename) throws(CondaOCINamingError) -> (component: String, tag: Tag) {
        (CondaOCINaming.repositoryComponent(forPackage: filename.name), try CondaOCINaming.tag(version: filename.version, build: filename.build))
    }

    /// Groups packages by repository and tag (`.conda` first within a tag), sorted by component
    /// and tag; packages whose tag is invalid come back as skips.
    public static func group(_ packages: [CondaOCIPackage]) -> (groups: [CondaOCIPackageGroup], skipped: [CondaOCISkip]) {
        var byKey: [String: (component: String, tag: Tag, archives: [CondaOCIPackage])] = [:]
        var skipped: [CondaOCISkip] = []
        for package in packages {
            do {
                let (component, tag) = try location(of: package.filename)
                byKey["\(component):\(tag.value)", default: (component, tag, [])].archives.append(package)
            } catch {
                skipped.append(CondaOCISkip(filename: package.filename.rawValue, reason: error.message))
            }
        }
        let groups = byKey.keys.sorted().compactMap { key -> CondaOCIPackageGroup? in
            guard let entry = byKey[key] else { return nil }
            return CondaOCIPackageGroup(component: entry.component, tag: entry.tag, archives: ordered(entry.archives))
        }
        return (groups, skipped.sorted { $0.filename < $1.filename })
    }

    /// `.conda` before `.tar.bz2` (the info layers describe the first), then by filename.
    public static func ordered(_ archives: [CondaOCIPackage]) -> [CondaOCIPackage] {
        archives.sorted { a, b in
            if a.filename.format != b.filename.format { return a.filename.format == .conda }
            return a.filename.rawValue < b.filename.rawValue
        }
    }

    /// Times from 1970 up to the year 9999: what a `YYYY.MM.DD.HH.MM` value can carry.
    public static let validSeconds: ClosedRange<Double> = 0...253_402_300_799

    /// A package manifest's `creationTime`: the record's own timestamp (first archive), so the
    /// digest does not change with unrelated repodata updates; absent or impossible → 1970.
    public static func creationTime(of group: [CondaOCIPackage]) -> CondaCreationTime {
        let seconds = group.first?.timestampSeconds.flatMap { validSeconds.contains($0) ? $0 : nil } ?? 0
        return CondaCreationTime(Date(timeIntervalSince1970: seconds))
    }

    /// A repodata manifest's `creationTime` (and its dated tag): upstream's Last-Modified, else
    /// when hoard fetched it; both are in the index, so restarts do not change it.
    public static func repodataCreationTime(upstreamLastModified: String?, fetchedAt: Double) -> CondaCreationTime {
        let seconds = upstreamLastModified.flatMap(HTTPDate.parse) ?? fetchedAt
        return CondaCreationTime(Date(timeIntervalSince1970: validSeconds.contains(seconds) ? seconds : (validSeconds.contains(fetchedAt) ? fetchedAt : 0)))
    }

    /// A shard manifest's `creationTime`: a shard is named by its content, so its manifest is a
    /// function of the shard alone (the same tag never changes digest): the epoch.
    public static let shardCreationTime = CondaCreationTime(Date(timeIntervalSince1970: 0))

    /// Repository leaves.
    public static let repodataLeaf = "repodata.json"
    public static let shardLeaf = "repodata.json/shards"
    /// The store's name of a cached shard (conda front), `shards/<hex>.msgpack.zst`.
    public static func shardFilename(hex: String) -> String { "shards/\(hex).msgpack.zst" }
}
