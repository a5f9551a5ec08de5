import Foundation
import HoardConda
import HoardCondaOCI
import HoardOCI
import HoardStore
import HoardUpstream
import Hummingbird

/// One request to the mirror, for a repository of one channel subdir: answered from the subdir's
/// current repodata snapshot (fetched first when hoard has none).
struct CondaMirrorSubdir {
    let mirror: CondaMirror
    let channel: CondaChannel
    let path: CondaMirrorPath
    let repository: RepositoryName

    private var conda: CondaFront { mirror.conda }

    /// The repodata the conda front serves for the subdir: offline, filtered to the packages the
    /// store holds (`DerivedRepodata`), so an `oci://` client never resolves to a missing package.
    private func snapshot() async throws -> DocumentSnapshot {
        let key = DocumentKey(channel: channel.name, label: "", subdir: path.subdir.rawValue, kind: .repodata)
        return try await conda.servedRepodataSnapshot(key, channel: channel)
    }

    /// The subdir's shard index as the conda front serves it; nil when the channel has none
    /// (upstream said not found). Any other failure is thrown: a repodata manifest without the
    /// layer would change digest once the index is back. Offline with filtered repodata there
    /// is none: upstream's names packages the store lacks, and the conda front's generated one
    /// lives in memory only; clients read the filtered repodata.json layer instead.
    private func shardIndex() async throws -> DocumentSnapshot? {
        if conda.derived.filtering { return nil }
        let key = DocumentKey(channel: channel.name, label: "", subdir: path.subdir.rawValue, kind: .shardIndex)
        do {
            return try await conda.documents.snapshot(key, channel: channel)
        } catch let error as UpstreamError where error.isNotFound {
            return nil
        }
    }

    private func repodataArtifact() async throws -> (DocumentSnapshot, CondaOCIArtifact) {
        let snapshot = try await snapshot()
        return (snapshot, CondaMirrorManifests.repodata(snapshot, shardIndex: try await shardIndex()))
    }

    /// Makes a file of the channel present in the store the way a conda client's download would
    /// (the conda front's pull-through: one upstream fetch however many ask, checked against
    /// the channel's metadata), without sending it anywhere.
    private func pullThrough(_ file: String) async throws {
        let head = HTTPRequest(method: .head, scheme: nil, authority: nil, path: "/\(channel.name)/\(path.subdir.rawValue)/\(file)")
        let response = try await conda.respond(to: Request(head: head, body: RequestBody(buffer: ByteBuffer())))
        guard response.status == .ok else {
            throw OCIError(.unsupported, "\(file) could not be fetched from upstream (status \(response.status.code))", status: 502)
        }
    }

    /// The info layers of a package: on record, else made from the archive, which is pulled
    /// through first when the store lacks it. The view always lists them, so a manifest's digest
    /// never changes when the package gets cached; the price is that the first manifest request
    /// of an uncached package downloads it (clients that fetch blobs by digest never need this).
    private func infoLayers(_ group: CondaOCIPackageGroup) async throws -> CondaOCIInfoLayers {
        guard let first = group.archives.first else { throw unknown("tag \(group.tag)", hint: "no archive") }
        do {
            return try await mirror.info.layers(first, subdir: path.subdir.rawValue) { package in
                try await pullThrough(package.filename.rawValue)
            }
        } catch let error as CondaOCIError {
            // The archive upstream sent (and hoard verified against the record) is no conda
            // package hoard can read: upstream's content is at fault.
            throw OCIError(.unsupported, "\(repository):\(group.tag): \(error)", status: 502)
        }
    }

    // MARK: Manifests

    func manifest(_ reference: Reference, head: Bool) async throws -> Response {
        let manifest: BuiltManifest
        switch reference {
        case .tag(let tag): manifest = try await byTag(tag.value)
        case .digest(let digest): manifest = try await byDigest(digest)
        }
        mirror.manifests.remember(manifest, in: repository.value)
        let headers: HTTPFields = [.dockerContentDigest: manifest.digest.description, .eTag: "\"\(manifest.digest)\""]
        // HEAD keeps Content-Length: the responder drops the body only.
        return .bytes(.ok, manifest.bytes, contentType: manifest.mediaType, headers: headers)
    }

    private func byTag(_ tag: String) async throws -> BuiltManifest {
        switch path.leaf {
        case .repodata:
            let (snapshot, artifact) = try await repodataArtifact()
            guard tag == CondaOCINaming.repodataTag.value || tag == CondaMirrorManifests.datedTag(snapshot) else {
                throw unknown("tag \(tag)", hint: "repodata tags are latest and the snapshot's \(CondaMirrorManifests.datedTag(snapshot))")
            }
            return artifact.manifest
        case .package(let component):
            let catalog = try await mirror.catalogs.catalog(of: try await snapshot())
            let logger = conda.logger
            let group = CondaMirrorManifests.group(catalog, component: component, tag: tag) { skip in
                logger.warning("left out of the OCI mirror", metadata: ["file": "\(skip.filename)", "reason": "\(skip.reason)"])
            }
            guard let group else {
                throw unknown("tag \(tag)", hint: "the channel's repodata has no such package in \(path.subdir)")
            }
            return try await packageArtifact(group, info: try await infoLayers(group)).manifest
        case .shards:
            guard let hex = BlobDigest(canonical: tag)?.hex, hex == tag, let index = try await shardIndex(),
                try await shardHexes(index).contains(hex)
            else {
                throw unknown("tag \(tag)", hint: "shard tags are the sha256 of a shard the subdir's current shard index names")
            }
            return CondaOCIManifests.shard(channel: channel.name, subdir: path.subdir.rawValue, shard: try await shard(hex)).manifest
        case .other(let leaf):
            throw unknown("tag \(tag)", hint: "\"\(leaf)\" is neither repodata.json nor a package repository")
        }
    }

    private func packageArtifact(_ group: CondaOCIPackageGroup, info: CondaOCIInfoLayers) async throws -> CondaOCIArtifact {
        do {
            return try CondaOCIManifests.package(channel: channel.name, subdir: path.subdir.rawValue, group: group, info: info)
        } catch {
            throw CondaMirrorError.badRecord(component: group.component, tag: group.tag.value, reason: error.description)
        }
    }

    /// The shards the current shard index names (hex).
    private func shardHexes(_ index: DocumentSnapshot) async throws -> Set<String> {
        let reader = try await conda.store.open(index.served.digest)
        // zstd and MessagePack decoding: the document pool.
        let decoded = try await conda.expectations.worker.runIfActive { try DocumentBuilder.shardIndex(reader) }
        return Set(decoded.shards.values)
    }

    /// A shard as a layer: cached, else pulled through the conda front.
    private func shard(_ hex: String) async throws -> CondaOCIBlob {
        let key = PackageExpectations.shardKey(channel: channel.name, label: "", subdir: path.subdir.rawValue, hex: hex)
        if let digest = try await conda.store.index.condaFile(key), let record = try await conda.store.existingBlob(digest) {
            return CondaOCIBlob(digest: record.digest, size: record.size)
        }
        try await pullThrough(CondaOCILayout.shardFilename(hex: hex))
        guard let digest = try await conda.store.index.condaFile(key), let record = try await conda.store.existingBlob(digest) else {
            throw OCIError(.blobUnknown, "shard \(hex) of \(channel.name)/\(path.subdir) is not in the store after fetching it")
        }
        return CondaOCIBlob(digest: record.digest, size: record.size)
    }

    /// Digests hoard handed out are remembered; after a restart (or eviction from the memory)
    /// the repository's manifests are synthesized again and compared. Packages are tried only
    /// where their info layers are on record (a manifest naming them was possible); nothing is
    /// fetched for a digest.
    private func byDigest(_ digest: OCIDigest) async throws -> BuiltManifest {
        if let manifest = mirror.manifests.manifest(digest, in: repository.value) { return manifest }
        switch path.leaf {
        case .repodata:
            let manifest = try await repodataArtifact().1.manifest
            if manifest.digest == digest { return manifest }
        case .package(let component):
            let catalog = try await mirror.catalogs.catalog(of: try await snapshot())
            for tag in catalog.tags(of: component) {
                guard let group = CondaMirrorManifests.group(catalog, component: component, tag: tag), let first = group.archives.first,
                    let info = try await mirror.info.known(first, subdir: path.subdir.rawValue)
                else { continue }
                let manifest = try await packageArtifact(group, info: info).manifest
                if manifest.digest == digest { return manifest }
            }
        case .shards:
            let files = try await conda.store.index.condaFiles(channel: channel.name, subdir: path.subdir.rawValue)
            for file in files where file.key.filename.hasPrefix("shards/") {
                let manifest = CondaOCIManifests.shard(
                    channel: channel.name, subdir: path.subdir.rawValue, shard: CondaOCIBlob(digest: file.digest, size: file.size)).manifest
                if manifest.digest == digest { return manifest }
            }
        case .other:
            break
        }
        throw unknown("manifest \(digest)", hint: "not a manifest of the current repodata snapshot")
    }

    private func unknown(_ what: String, hint: String) -> OCIError {
        OCIError(.manifestUnknown, "\(what) is unknown to \(repository): \(hint)")
    }

    // MARK: Tags

    func tags(_ page: PageRequest) async throws -> Response {
        let all: [String]
        switch path.leaf {
        case .repodata:
            let snapshot = try await snapshot()
            all = [CondaMirrorManifests.datedTag(snapshot), CondaOCINaming.repodataTag.value].sorted()
        case .package(let component):
            all = try await mirror.catalogs.catalog(of: try await snapshot()).tags(of: component)
        case .shards:
            all = try await shardIndex().asyncMap { try await shardHexes($0) }.map { $0.sorted() } ?? []
        case .other:
            all = []
        }
        guard !all.isEmpty else {
            throw OCIError(.nameUnknown, "repository \(repository) is unknown: the channel's \(path.subdir) repodata lists no such package")
        }
        let (items, hasMore) = page.page(of: all)
        var headers: HTTPFields = [:]
        if hasMore, let last = items.last {
            headers[.link] = PaginationLink.tags(repository: repository, limit: page.effectiveLimit(), last: last)
        }
        struct TagList: Encodable { let name: String; let tags: [String] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(TagList(name: repository.value, tags: items))
        return .bytes(.ok, Array(body), contentType: "application/json", headers: headers)
    }

    // MARK: Blobs

    /// A blob by digest from any repository of the channel subdir (mamba and rattler ask for
    /// `<subdir>/<name'>/blobs/sha256:<repodata sha256>` without a manifest): the snapshot's
    /// repodata documents, else the package whose record has that sha256, served (or pulled
    /// through) exactly as the conda front serves it.
    func blob(_ digest: OCIDigest, head: Bool, request: Request) async throws -> Response {
        guard digest.algorithm == .sha256 else {
            throw OCIError(.blobUnknown, "the conda mirror names blobs by sha256 only, not \(digest.algorithm.rawValue)")
        }
        if digest == OCIDigest.emptySHA256 {
            // The config blob of every conda manifest: the empty string, answered as any blob is.
            return OCIBlobRoutes.serve(.memory(ByteBuffer()), digest: digest.description, head: head, request: request)
        }
        let snapshot = try await snapshot()
        for document in [snapshot.served] + (snapshot.zst.map { [$0] } ?? []) where document.digest.hex == digest.hex {
            let file = try await OCIStoreAccess.open(
                document.digest, in: conda.store, missing: OCIError(.blobUnknown, "repodata blob \(digest) was evicted; ask for the manifest again"))
            return OCIBlobRoutes.serve(file, digest: digest.description, head: head, request: request)
        }
        let catalog = try await mirror.catalogs.catalog(of: snapshot)
        guard let sha = BlobDigest(hex: digest.hex) else { throw OCIError(.blobUnknown, "blob \(digest) is not a sha256") }
        // Packages first: what clients ask for nearly always.
        guard let name = catalog.filenameBySHA256[sha], let filename = try? CondaFilename(name) else {
            if let response = try await derivedBlob(sha, catalog: catalog, head: head, request: request) { return response }
            throw OCIError(.blobUnknown, "blob \(digest) is not a package, info layer, shard or repodata document of \(channel.name)/\(path.subdir) (current snapshot)")
        }
        var response: Response
        do {
            response = try await conda.package(filename, channel: channel, label: "", subdir: path.subdir.rawValue, request: request)
        } catch let error as StoreError {
            if case .digestMismatch = error {
                throw OCIError(.unsupported, "upstream sent \(name) with bytes that do not hash to \(digest); nothing was stored", status: 502)
            }
            throw error
        }
        response.headers[.dockerContentDigest] = digest.description
        return response
    }

    /// Blobs that are not packages: the shard index and its shards (§1.5), and info layers (made
    /// again from their archive when they were evicted). nil when `sha` is none of them.
    private func derivedBlob(_ sha: BlobDigest, catalog: CondaMirrorCatalog, head: Bool, request: Request) async throws -> Response? {
        let description = "sha256:" + sha.hex
        let index = try await shardIndex()
        if let index, index.served.digest == sha {
            return OCIBlobRoutes.serve(try await OCIStoreAccess.open(sha, in: conda.store, missing: evicted(description)), digest: description, head: head, request: request)
        }
        let rows = try await mirror.info.rows(naming: sha)
        guard !rows.isEmpty else {
            // A shard: cached, else one the current index names (decoding the index costs more
            // than the lookup, so only then), pulled through.
            let key = PackageExpectations.shardKey(channel: channel.name, label: "", subdir: path.subdir.rawValue, hex: sha.hex)
            var known = try await conda.store.index.condaFile(key) == sha
            if !known, let index { known = try await shardHexes(index).contains(sha.hex) }
            guard known else { return nil }
            let blob = try await shard(sha.hex)
            return OCIBlobRoutes.serve(try await OCIStoreAccess.open(blob.digest, in: conda.store, missing: evicted(description)), digest: description, head: head, request: request)
        }
        if try await !conda.store.contains(sha) {
            // Evicted: made again from the archive (pulled through when it is gone too).
            guard let row = rows.first(where: { $0.subdir == path.subdir.rawValue }) ?? rows.first,
                let name = catalog.filenameBySHA256[row.archive], let record = catalog.records[name],
                case .success(let package) = CondaOCIPackage.from(filename: name, record: record)
            else {
                throw OCIError(.blobUnknown, "info layer \(description) was evicted and its package is not in the current repodata of \(channel.name)/\(path.subdir)")
            }
            do {
                try await mirror.info.restore(row, package: package) { package in try await pullThrough(package.filename.rawValue) }
            } catch let error as CondaOCIError {
                throw OCIError(.blobUnknown, error.description)
            }
        }
        return OCIBlobRoutes.serve(try await OCIStoreAccess.open(sha, in: conda.store, missing: evicted(description)), digest: description, head: head, request: request)
    }

    private func evicted(_ digest: String) -> OCIError {
        OCIError(.blobUnknown, "blob \(digest) was evicted meanwhile; ask again")
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        switch self {
        case .some(let value): return try await transform(value)
        case .none: return nil
        }
    }
}
