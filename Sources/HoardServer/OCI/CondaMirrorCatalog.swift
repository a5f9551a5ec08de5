import HoardConda
import HoardOCI
import HoardStore
import Synchronization

/// The packages of one repodata snapshot, indexed the ways the OCI mirror is asked: by the
/// archive's sha256 (blobs fetched by digest alone) and by repository (manifests, tags/list).
struct CondaMirrorCatalog: Sendable {
    let records: [String: PackageDigest]
    /// One filename per sha256; when two records share bytes, the lexically smallest (stable).
    let filenameBySHA256: [BlobDigest: String]
    /// Repository component (`name'`) → the filenames of that package, sorted.
    let filenamesByRepository: [String: [String]]

    init(records: [String: PackageDigest]) {
        self.records = records
        var bySHA: [BlobDigest: String] = [:]
        var byRepository: [String: [String]] = [:]
        for (filename, record) in records {
            if let sha = record.sha256 {
                if let existing = bySHA[sha], existing < filename {} else { bySHA[sha] = filename }
            }
            guard let parsed = try? CondaOCINaming.PackageFilename(filename) else { continue }
            byRepository[CondaOCINaming.repositoryComponent(forPackage: parsed.name), default: []].append(filename)
        }
        filenameBySHA256 = bySHA
        filenamesByRepository = byRepository.mapValues { $0.sorted() }
    }

    /// The escaped tags of a package repository, sorted; empty when the channel has no such package.
    /// Files whose version-build cannot be a tag are left out (conda-oci-mirror skips them too).
    func tags(of component: String) -> [String] {
        let tags = (filenamesByRepository[component] ?? []).compactMap { filename -> String? in
            guard let parsed = try? CondaOCINaming.PackageFilename(filename) else { return nil }
            return try? CondaOCINaming.tag(version: parsed.version, build: parsed.build).value
        }
        return Array(Set(tags)).sorted()
    }

    /// The archives of a package repository under `tag`: `.conda` first, then `.tar.bz2`.
    func archives(of component: String, tag: String) -> [(filename: String, record: PackageDigest)] {
        (filenamesByRepository[component] ?? []).compactMap { filename in
            guard let parsed = try? CondaOCINaming.PackageFilename(filename),
                (try? CondaOCINaming.tag(version: parsed.version, build: parsed.build).value) == tag,
                let record = records[filename]
            else { return nil }
            return (filename, record)
        }.sorted { a, b in a.filename.hasSuffix(".conda") && !b.filename.hasSuffix(".conda") }
    }
}

/// Catalogs by the digest of the repodata.json they came from: built once per snapshot, on the
/// worker thread (conda-forge's linux-64 has ~500k records).
final class CondaMirrorCatalogs: Sendable {
    let expectations: PackageExpectations
    private let catalogs = Mutex<[BlobDigest: Task<CondaMirrorCatalog, any Error>]>([:])

    init(expectations: PackageExpectations) {
        self.expectations = expectations
    }

    func catalog(of snapshot: DocumentSnapshot) async throws -> CondaMirrorCatalog {
        let digest = snapshot.row.digest
        let task = catalogs.withLock { catalogs in
            if let task = catalogs[digest] { return task }
            // Like the record maps: only the newest few snapshots are worth memory.
            if catalogs.count >= 8 { catalogs.removeAll() }
            let expectations = self.expectations
            let task = Task {
                let records = try await expectations.records(for: snapshot.key, from: digest)
                return try await expectations.worker.runIfActive { CondaMirrorCatalog(records: records) }
            }
            catalogs[digest] = task
            return task
        }
        return try await task.value
    }
}
