import Foundation
import HoardConda
import HoardOCI
import HoardStore
import HoardUpstream

/// What a registry says it publishes for one channel subdir: the `repodata.json` layer of
/// `<channel>/<subdir>/repodata.json:latest`. hoard publishes only packages that are in the
/// registry, so that document is its inventory.
struct PublishedInventory: Sendable {
    let manifestDigest: BlobDigest?
    let records: [String: PackageDigest]

    static let empty = PublishedInventory(manifestDigest: nil, records: [:])

    static func read(_ client: RegistryClient, _ endpoint: RegistryEndpoint, repository: String) async throws -> PublishedInventory {
        guard let digest = try await client.manifestDigest(endpoint, repository: repository, reference: "latest") else { return .empty }
        let manifest = try await client.manifest(endpoint, repository: repository, reference: digest.description)
        let parsed = try Manifest.parse(manifest.bytes)
        guard let layer = parsed.layers.first(where: { $0.mediaType == CondaOCINaming.MediaType.repodataJSON }),
            let layerDigest = try? BlobDigest(parsing: layer.digest.description)
        else { return PublishedInventory(manifestDigest: digest, records: [:]) }
        guard layer.size <= StoreSubdir.maxDocument else {
            throw SyncError.registry("\(repository):latest lists a repodata.json of \(layer.size) bytes; refusing more than \(StoreSubdir.maxDocument)")
        }
        let response = try await client.blob(endpoint, repository: repository, digest: layerDigest)
        let body = Array(buffer: try await response.collect(limit: StoreSubdir.maxDocument))
        guard BlobDigest.of(body) == layerDigest else {
            throw SyncError.registry("\(repository): the repodata.json blob does not hash to \(layerDigest)")
        }
        let records = try body.withUnsafeBytes { try RepodataRecords.build(document: $0) }
        return PublishedInventory(manifestDigest: digest, records: records)
    }
}
