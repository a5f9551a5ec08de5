import Foundation
import HoardDigest
import HoardOCI
import HoardStore
import NIOCore
import NIOPosix

/// What an export wrote.
public struct LayoutExportSummary: Sendable {
    public var channels: [String] = []
    /// Tagged references in index.json (one per manifest and tag).
    public var references = 0
    public var blobs = 0
    public var bytes: Int64 = 0
    public var skipped: [CondaOCISkip] = []
    public var partial: [String] = []
}

/// Writes what the store holds for some channels as one OCI image-layout tar: the conda-oci-mirror
/// artifacts (the same manifests the OCI view serves and sync pushes), named in `index.json` by
/// `org.opencontainers.image.ref.name` = `<channel>/<subdir>/<leaf>:<tag>`, plus per channel a
/// `<channel>/hoard-store-index:latest` artifact with the index rows an import needs to rebuild
/// the store. skopeo (`oci-archive:`) and oras (`--oci-layout`) read it.
public struct LayoutExporter: Sendable {
    public let artifacts: StoreArtifacts
    public let worker: NIOThreadPool

    public init(artifacts: StoreArtifacts) {
        self.artifacts = artifacts
        worker = artifacts.info.worker
    }

    public func export(channels requested: [String], to path: String, progress: @Sendable (String) -> Void = { _ in }) async throws
        -> LayoutExportSummary
    {
        var summary = LayoutExportSummary()
        let store = artifacts.store
        let known = try await artifacts.channels()
        let channels = requested.isEmpty ? known : requested
        for channel in channels where !known.contains(channel) {
            throw LayoutError.io("the store holds nothing for channel \"\(channel)\" (it holds: \(known.joined(separator: ", ")))")
        }
        var all: [CondaOCIArtifact] = []
        var indexDocuments: [(channel: String, manifest: BuiltManifest, layer: [UInt8], extra: [CondaOCILayer])] = []
        for channel in channels {
            var inLayers = Set<BlobDigest>()
            for subdir in try await artifacts.subdirs(channel: channel) {
                progress("planning \(channel)/\(subdir)")
                let plan = try await artifacts.plan(channel: channel, subdir: subdir)
                summary.skipped += plan.skipped
                summary.partial += plan.partial.map { "\(channel)/\(subdir)/\($0)" }
                for artifact in plan.artifacts {
                    all.append(artifact)
                    artifact.layers.forEach { inLayers.insert($0.digest) }
                }
            }
            // The index rows, and the blobs they name that no artifact lists (the repodata as
            // fetched when it was rewritten, current_repodata.json, files of other labels…).
            let rows = try await store.index.repodataRows(channel: channel)
            let files = try await store.index.condaFiles(channel: channel)
            let archives = Set(files.map(\.digest))
            let info = try await store.index.allCondaInfoLayers().filter { archives.contains($0.archive) }
            let document = StoreIndexDocument(
                version: StoreIndexDocument.version, channel: channel, documents: rows.map(StoreIndexDocument.Document.init),
                files: files.map { .init(label: $0.key.label, subdir: $0.key.subdir, filename: $0.key.filename, digest: $0.digest.hex) },
                info_layers: info.map {
                    .init(
                        archive: $0.archive.hex, subdir: $0.subdir, recipe: $0.recipe, info_tar_gz: $0.infoTarGz.hex,
                        info_tar_gz_size: $0.infoTarGzSize, index_json: $0.indexJSON.hex, index_json_size: $0.indexJSONSize)
                })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let layer = Array(try encoder.encode(document))
            var extra: [CondaOCILayer] = []
            for hex in document.digests.sorted() {
                guard let digest = BlobDigest(canonical: hex), !inLayers.contains(digest), let record = try await store.existingBlob(digest) else { continue }
                extra.append(CondaOCILayer(mediaType: "application/octet-stream", digest: digest, size: record.size, title: hex))
            }
            let manifest = Self.indexManifest(layer: layer, extra: extra)
            indexDocuments.append((channel, manifest, layer, extra))
        }

        // index.json: one descriptor per manifest and tag.
        var descriptors: [(digest: OCIDigest, size: Int, ref: String)] = []
        var manifests: [BlobDigest: [UInt8]] = [:]
        var blobs: [BlobDigest: Int64] = [:]
        for artifact in all {
            for tag in artifact.tags { descriptors.append((artifact.manifest.digest, artifact.manifest.size, "\(artifact.path):\(tag.value)")) }
            manifests[BlobDigest.of(artifact.manifest.bytes)] = artifact.manifest.bytes
            for layer in artifact.layers { blobs[layer.digest] = layer.size }
        }
        for entry in indexDocuments {
            descriptors.append((entry.manifest.digest, entry.manifest.size, "\(entry.channel)/\(StoreIndexDocument.leaf):latest"))
            manifests[BlobDigest.of(entry.manifest.bytes)] = entry.manifest.bytes
            manifests[BlobDigest.of(entry.layer)] = entry.layer
            for layer in entry.extra { blobs[layer.digest] = layer.size }
        }
        manifests[BlobDigest.of([UInt8]())] = []
        for digest in manifests.keys { blobs.removeValue(forKey: digest) }
        let indexJSON = try LayoutIndex(
            manifests: descriptors.map { .init(digest: $0.digest.description, size: Int64($0.size), ref: $0.ref) }
        ).encoded()

        // The tar, written beside the target and renamed into place when complete.
        let partial = path + ".partial"
        let writer = try LayoutTarWriter(path: partial)
        do {
            let layoutFile = Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)
            try await worker.runIfActive {
                try writer.begin("oci-layout", size: Int64(layoutFile.count))
                try layoutFile.withUnsafeBytes { try writer.write($0) }
                try writer.begin("index.json", size: Int64(indexJSON.count))
                try indexJSON.withUnsafeBytes { try writer.write($0) }
                try writer.begin("blobs/", size: 0, directory: true)
                try writer.begin("blobs/sha256/", size: 0, directory: true)
            }
            let order = (Array(manifests.keys) + Array(blobs.keys)).sorted { $0.hex < $1.hex }
            for digest in order {
                let name = "blobs/sha256/\(digest.hex)"
                if let bytes = manifests[digest] {
                    try await worker.runIfActive {
                        try writer.begin(name, size: Int64(bytes.count))
                        try bytes.withUnsafeBytes { try writer.write($0) }
                    }
                    summary.bytes += Int64(bytes.count)
                } else {
                    progress("writing \(digest)")
                    let reader = try await store.open(digest)
                    let size = reader.size
                    try await worker.runIfActive { try writer.begin(name, size: size) }
                    var offset: Int64 = 0
                    while offset < size {
                        let chunk = try await reader.read(at: offset, count: Int(min(Int64(4 << 20), size - offset)))
                        guard chunk.readableBytes > 0 else { throw LayoutError.io("blob \(digest) ended early in the store") }
                        offset += Int64(chunk.readableBytes)
                        try await worker.runIfActive { try chunk.withUnsafeReadableBytes { try writer.write($0) } }
                    }
                    summary.bytes += size
                }
                summary.blobs += 1
            }
            try await worker.runIfActive { try writer.close() }
            guard rename(partial, path) == 0 else { throw LayoutError.io("cannot rename \(partial) to \(path): \(String(cString: strerror(errno)))") }
        } catch {
            unlink(partial)
            throw error
        }
        summary.channels = channels
        summary.references = descriptors.count
        return summary
    }

    /// The store-index artifact: the rows as JSON, then the blobs only they name.
    static func indexManifest(layer: [UInt8], extra: [CondaOCILayer]) -> BuiltManifest {
        var layers = [
            CondaManifestBuilder.Layer(
                mediaType: StoreIndexDocument.mediaType, blob: CondaOCIManifests.blob(BlobDigest.of(layer), Int64(layer.count)),
                annotations: [("org.opencontainers.image.title", "hoard-store-index.json")])
        ]
        for blob in extra {
            layers.append(
                CondaManifestBuilder.Layer(
                    mediaType: blob.mediaType, blob: CondaOCIManifests.blob(blob.digest, blob.size),
                    annotations: [("org.opencontainers.image.title", blob.title)]))
        }
        return CondaManifestBuilder.manifest(layers)
    }
}

/// `index.json` of the layout.
struct LayoutIndex: Codable {
    struct Descriptor: Codable {
        var mediaType: String
        var digest: String
        var size: Int64
        var annotations: [String: String]?

        init(digest: String, size: Int64, ref: String) {
            mediaType = OCIMediaType.imageManifest
            self.digest = digest
            self.size = size
            annotations = [LayoutIndex.refName: ref]
        }
    }

    static let refName = "org.opencontainers.image.ref.name"
    static let mediaType = "application/vnd.oci.image.index.v1+json"

    var schemaVersion = 2
    var mediaType: String? = LayoutIndex.mediaType
    var manifests: [Descriptor]

    init(manifests: [Descriptor]) { self.manifests = manifests }

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}
