import HoardConda
import HoardOCI
import HoardStore
import HoardUpstream

/// A conda channel backed by a conda-oci-mirror layout in a registry
/// (`oci://ghcr.io/channel-mirrors/conda-forge`): repodata from `<subdir>/repodata.json:latest`,
/// packages by the sha256 repodata gives them from `<subdir>/<name'>`, else through the manifest
/// at their escaped `<version>-<build>` tag, else from the fallback HTTP channel, if any (the
/// mirror's repodata lists packages it never pushed).
struct OCIMirrorChannel: ChannelUpstream {
    /// The registry, with the channel's path (`channel-mirrors/conda-forge`) as namespace.
    let endpoint: RegistryEndpoint
    let client: RegistryClient
    let fallback: HTTPChannelUpstream?

    /// Only `repodata.json` exists in the layout (shards are not read by any client yet, and the
    /// rest is not mirrored): everything else is a 404, so clients fall back to repodata.json.
    func fetchDocument(_ key: DocumentKey, current: DocumentSnapshot?) async throws -> DocumentFetch {
        let repository = "\(key.subdir)/repodata.json"
        let source = "\(endpoint)/\(repository):latest"
        guard key.kind == .repodata, key.label.isEmpty, !key.subdir.isEmpty else {
            throw UpstreamError.status(url: "\(endpoint)/\(key)", code: 404)
        }
        let manifest: RegistryClient.FetchedManifest
        do {
            manifest = try await client.manifest(endpoint, repository: repository, reference: CondaOCINaming.repodataTag.value)
        } catch {
            // A subdir the mirror does not have may still exist in the fallback channel.
            guard error.isNotFound, let fallback else { throw error }
            return try await fallback.fetchDocument(key, current: current)
        }
        // The manifest digest is the document's validator: same manifest, same snapshot.
        let validators = DocumentValidators(etag: manifest.digest.description)
        if let current, current.row.upstreamURL == source, current.row.upstreamETag == manifest.digest.description {
            return .notModified(validators)
        }
        let layers: [OCIDescriptor]
        do { layers = try Manifest.parse(manifest.bytes).layers } catch {
            throw UpstreamError.integrity(url: source, detail: "not a manifest: \(error)")
        }
        // The .zst is a tenth of the size; hoard derives the .json from it.
        let preferred = [(CondaOCINaming.MediaType.repodataJSONZst, true), (CondaOCINaming.MediaType.repodataJSON, false)]
        for (mediaType, zstd) in preferred {
            guard let layer = layers.first(where: { $0.mediaType == mediaType }), layer.digest.algorithm == .sha256,
                let digest = try? BlobDigest(parsing: layer.digest.hex)
            else { continue }
            let response = try await client.blob(endpoint, repository: repository, digest: digest)
            return .body(response, source: source, zstd: zstd, digest: digest, validators: validators)
        }
        throw UpstreamError.integrity(url: source, detail: "the manifest has no \(CondaOCINaming.MediaType.repodataJSON)(+zst) layer")
    }

    func packageSource(label: String, subdir: String, filename: CondaFilename, expected: PackageExpectations.Expectation?, baseURL: String?)
        -> FillSource
    {
        let repository = "\(subdir)/\(CondaOCINaming.repositoryComponent(forPackage: filename.name))"
        let client = self.client
        let endpoint = self.endpoint
        let fallback = label.isEmpty ? self.fallback : nil
        let fallbackSource = fallback?.packageSource(label: label, subdir: subdir, filename: filename, expected: expected, baseURL: nil)
        return FillSource(url: "\(endpoint)/\(repository)/\(filename.rawValue)", expectedDigest: expected?.digest, expectedSize: expected?.size) {
            if let digest = expected?.digest {
                do {
                    return try await client.blob(endpoint, repository: repository, digest: digest)
                } catch {
                    guard (error as? UpstreamError)?.isNotFound == true else { throw error }
                }
            }
            do {
                return try await Self.viaManifest(client, endpoint, repository: repository, filename: filename)
            } catch {
                guard (error as? UpstreamError)?.isNotFound == true, let fallback, let fallbackSource else { throw error }
                let response = try await fallback.http.send(UpstreamRequest(url: fallbackSource.url))
                guard response.status == 200 else {
                    try? await response.discardBody()
                    throw UpstreamError.status(url: fallbackSource.url, code: response.status)
                }
                return response
            }
        }
    }

    /// The package layer of the manifest at the package's tag (rattler's fallback too).
    static func viaManifest(_ client: RegistryClient, _ endpoint: RegistryEndpoint, repository: String, filename: CondaFilename)
        async throws -> UpstreamResponse
    {
        let format: CondaOCINaming.ArchiveFormat = filename.format == .conda ? .conda : .tarBz2
        let url = "\(endpoint)/\(repository)/\(filename.rawValue)"
        guard let tag = try? CondaOCINaming.tag(version: filename.version, build: filename.build) else {
            throw UpstreamError.status(url: url, code: 404)
        }
        let manifest = try await client.manifest(endpoint, repository: repository, reference: tag.value)
        let layers = (try? Manifest.parse(manifest.bytes).layers) ?? []
        // Old mirror content has untyped layers: then the title names the file.
        let layer = layers.first { $0.mediaType == format.mediaType }
            ?? layers.first { $0.annotations?["org.opencontainers.image.title"] == filename.rawValue }
        guard let layer, layer.digest.algorithm == .sha256, let digest = try? BlobDigest(parsing: layer.digest.hex) else {
            throw UpstreamError.status(url: url, code: 404)
        }
        return try await client.blob(endpoint, repository: repository, digest: digest)
    }

    func shardSource(label: String, subdir: String, hex: String, shardsDirectory: String?) throws -> FillSource {
        throw UpstreamError.status(url: "\(endpoint)/\(subdir)/repodata.json/shards:\(hex)", code: 404)
    }
}
