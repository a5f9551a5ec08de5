import Foundation
import HoardConda
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

    private func snapshot() async throws -> DocumentSnapshot {
        let key = DocumentKey(channel: channel.name, label: "", subdir: path.subdir.rawValue, kind: .repodata)
        return try await conda.documents.snapshot(key, channel: channel)
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
            let snapshot = try await snapshot()
            guard tag == CondaOCINaming.repodataTag.value || tag == CondaMirrorManifests.datedTag(snapshot) else {
                throw unknown("tag \(tag)", hint: "repodata tags are latest and the snapshot's \(CondaMirrorManifests.datedTag(snapshot))")
            }
            return try CondaMirrorManifests.repodata(snapshot)
        case .package(let component):
            let catalog = try await mirror.catalogs.catalog(of: try await snapshot())
            let logger = conda.logger
            let manifest = try CondaMirrorManifests.package(catalog, component: component, tag: tag) { filename, reason in
                logger.warning("left out of the OCI mirror", metadata: ["file": "\(filename)", "reason": "\(reason)"])
            }
            guard let manifest else {
                throw unknown("tag \(tag)", hint: "the channel's repodata has no such package in \(path.subdir)")
            }
            return manifest
        case .other(let leaf):
            throw unknown("tag \(tag)", hint: "\"\(leaf)\" is neither repodata.json nor a package repository")
        }
    }

    /// Digests hoard handed out are remembered; after a restart (or eviction from the memory)
    /// the repository's manifests are synthesized again and compared.
    private func byDigest(_ digest: OCIDigest) async throws -> BuiltManifest {
        if let manifest = mirror.manifests.manifest(digest, in: repository.value) { return manifest }
        switch path.leaf {
        case .repodata:
            let manifest = try CondaMirrorManifests.repodata(try await snapshot())
            if manifest.digest == digest { return manifest }
        case .package(let component):
            let catalog = try await mirror.catalogs.catalog(of: try await snapshot())
            for tag in catalog.tags(of: component) {
                if let manifest = try CondaMirrorManifests.package(catalog, component: component, tag: tag), manifest.digest == digest {
                    return manifest
                }
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
            // The config blob of every conda manifest: the empty string.
            let headers: HTTPFields = [.dockerContentDigest: digest.description, .eTag: "\"\(digest)\""]
            return .bytes(.ok, [], contentType: "application/octet-stream", headers: headers)
        }
        let snapshot = try await snapshot()
        for document in [snapshot.served] + (snapshot.zst.map { [$0] } ?? []) where document.digest.hex == digest.hex {
            let file = try await OCIStoreAccess.open(
                document.digest, in: conda.store, missing: OCIError(.blobUnknown, "repodata blob \(digest) was evicted; ask for the manifest again"))
            return OCIBlobRoutes.serve(file, digest: digest.description, head: head, request: request)
        }
        let catalog = try await mirror.catalogs.catalog(of: snapshot)
        guard let sha = BlobDigest(hex: digest.hex), let name = catalog.filenameBySHA256[sha],
            let filename = try? CondaFilename(name)
        else {
            throw OCIError(.blobUnknown, "blob \(digest) is not a package or repodata document of \(channel.name)/\(path.subdir) (current snapshot)")
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
}
