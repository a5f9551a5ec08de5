import Foundation
import HoardConda
import HoardDigest
import HoardOCI
import HoardStore
import NIOCore
import NIOPosix

/// What an import did.
public struct LayoutImportSummary: Sendable {
    public var blobs = 0
    /// Blobs the store did not hold before.
    public var newBlobs = 0
    public var bytes: Int64 = 0
    public var manifests = 0
    public var documents = 0
    public var files = 0
}

/// Reads an OCI image-layout tar (what `hoard export` writes, or any conda-oci-mirror layout)
/// into the store. Every blob is checked against its name while it is ingested, every manifest
/// `index.json` names must be in the archive with every blob it lists; an entry outside the
/// layout (absolute, `..`, links, anything but `oci-layout`, `index.json`, `blobs/sha256/<hex>`)
/// refuses the archive. Names are recorded only once all of it checked out; blobs it added are
/// removed again when it is refused. Importing the same archive again changes nothing.
public struct LayoutImporter: Sendable {
    public let store: Store
    public let worker: NIOThreadPool

    public init(store: Store, worker: NIOThreadPool) {
        self.store = store
        self.worker = worker
    }

    /// The most `oci-layout` and `index.json`, and a manifest, may be.
    static let documentLimit = 64 << 20

    public func importArchive(_ path: String, progress: @Sendable (String) -> Void = { _ in }) async throws -> LayoutImportSummary {
        var summary = LayoutImportSummary()
        var added: [BlobDigest] = []
        do {
            let reader = try await worker.runIfActive { try LayoutTarReader(path: path) }
            var layoutFile: [UInt8]?
            var indexFile: [UInt8]?
            var sizes: [BlobDigest: Int64] = [:]
            while let entry = try await worker.runIfActive({ try reader.next() }) {
                let name = entry.name.hasPrefix("./") ? String(entry.name.dropFirst(2)) : entry.name
                switch try Self.classify(name, entry) {
                case .directory:
                    continue
                case .layoutFile:
                    layoutFile = try await readSmall(reader, entry)
                case .index:
                    indexFile = try await readSmall(reader, entry)
                case .blob(let digest):
                    let existed = try await store.existingBlob(digest) != nil
                    progress("importing \(digest)")
                    let writer = try await store.makeWriter(expectedDigest: digest, expectedSize: entry.size)
                    do {
                        while true {
                            // Reading the tar (file I/O, maybe decompression) blocks: the worker pool.
                            let buffer = try await worker.runIfActive { () throws -> ByteBuffer in
                                var buffer = ByteBuffer()
                                _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1 << 20) { try reader.read(into: $0) }
                                return buffer
                            }
                            if buffer.readableBytes == 0 { break }
                            try await writer.write(buffer)
                        }
                        try writer.verify()
                    } catch let error as StoreError {
                        writer.cancel()
                        throw LayoutError.badDigest("blobs/sha256/\(digest.hex): \(error)")
                    }
                    let record = try await store.commit(writer)
                    if !existed { added.append(digest); summary.newBlobs += 1 }
                    sizes[digest] = record.size
                    summary.blobs += 1
                    summary.bytes += record.size
                }
            }
            guard let layoutFile, let version = try? JSONDecoder().decode([String: String].self, from: Data(layoutFile))["imageLayoutVersion"],
                version.hasPrefix("1.")
            else { throw LayoutError.notALayout("no oci-layout file with imageLayoutVersion 1.x") }
            guard let indexFile, let index = try? JSONDecoder().decode(LayoutIndex.self, from: Data(indexFile)) else {
                throw LayoutError.notALayout("no readable index.json")
            }
            let names = try await checkManifests(index, sizes: sizes, summary: &summary)
            try await record(names, summary: &summary)
        } catch {
            // Refused: what this import added is named by nothing; take it out again.
            if !added.isEmpty { try? await store.remove(added) }
            throw error
        }
        return summary
    }

    enum EntryKind: Equatable { case directory, layoutFile, index, blob(BlobDigest) }

    static func classify(_ name: String, _ entry: LayoutTarReader.Entry) throws(LayoutError) -> EntryKind {
        let trimmed = name.hasSuffix("/") ? String(name.dropLast()) : name
        if entry.isDirectory, ["blobs", "blobs/sha256"].contains(trimmed) { return .directory }
        guard entry.isRegular, entry.size >= 0 else { throw .pathOutsideLayout(name) }
        switch name {
        case "oci-layout": return .layoutFile
        case "index.json": return .index
        default:
            let prefix = "blobs/sha256/"
            guard name.hasPrefix(prefix), let digest = BlobDigest(canonical: name.dropFirst(prefix.count)) else {
                throw .pathOutsideLayout(name)
            }
            return .blob(digest)
        }
    }

    private func readSmall(_ reader: LayoutTarReader, _ entry: LayoutTarReader.Entry) async throws -> [UInt8] {
        guard entry.size <= Self.documentLimit else { throw LayoutError.notALayout("\(entry.name) is larger than \(Self.documentLimit) bytes") }
        return try await worker.runIfActive {
            var out: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            while true {
                let n = try chunk.withUnsafeMutableBytes { try reader.read(into: $0) }
                if n == 0 { return out }
                out += chunk[0..<n]
            }
        }
    }

    /// A manifest the index names, parsed.
    private struct Parsed {
        var ref: String?
        var layers: [(mediaType: String, digest: BlobDigest, title: String?)]
    }

    /// Every manifest index.json names must be here, with its config and layers, sizes as
    /// described. Returns the parsed manifests.
    private func checkManifests(_ index: LayoutIndex, sizes: [BlobDigest: Int64], summary: inout LayoutImportSummary) async throws -> [Parsed] {
        func present(_ text: String, size: Int64, what: String) throws -> BlobDigest {
            guard let digest = BlobDigest(canonical: text) else { throw LayoutError.badDigest("\(what) names \"\(text)\", not a sha256 digest") }
            guard let actual = sizes[digest] else { throw LayoutError.badDigest("\(what) names \(text), which the archive lacks") }
            guard actual == size else { throw LayoutError.badDigest("\(what) says \(text) has \(size) bytes; the archive's has \(actual)") }
            return digest
        }
        struct Manifest: Decodable {
            struct Descriptor: Decodable {
                var mediaType: String
                var digest: String
                var size: Int64
                var annotations: [String: String]?
            }
            var config: Descriptor
            var layers: [Descriptor]
        }
        var parsed: [Parsed] = []
        for descriptor in index.manifests {
            let ref = descriptor.annotations?[LayoutIndex.refName]
            let digest = try present(descriptor.digest, size: descriptor.size, what: "index.json (\(ref ?? "untagged"))")
            let bytes = try await store.open(digest).readAll(limit: Int64(Self.documentLimit))
            guard let manifest = try? JSONDecoder().decode(Manifest.self, from: Data(bytes)) else {
                throw LayoutError.notALayout("manifest \(descriptor.digest) (\(ref ?? "untagged")) is not an image manifest")
            }
            let what = "manifest \(ref ?? descriptor.digest)"
            _ = try present(manifest.config.digest, size: manifest.config.size, what: what)
            var layers: [(String, BlobDigest, String?)] = []
            for layer in manifest.layers {
                layers.append((layer.mediaType, try present(layer.digest, size: layer.size, what: what), layer.annotations?["org.opencontainers.image.title"]))
            }
            parsed.append(Parsed(ref: ref, layers: layers.map { (mediaType: $0.0, digest: $0.1, title: $0.2) }))
            summary.manifests += 1
        }
        return parsed
    }

    /// Names what the archive holds: from hoard's store-index artifacts when there are any,
    /// else from the conda-oci-mirror references themselves (packages and repodata).
    private func record(_ manifests: [Parsed], summary: inout LayoutImportSummary) async throws {
        var documents: [StoreIndexDocument] = []
        for manifest in manifests {
            guard let layer = manifest.layers.first, layer.mediaType == StoreIndexDocument.mediaType else { continue }
            let bytes = try await store.open(layer.digest).readAll(limit: Int64(Self.documentLimit) * 16)
            guard let document = try? JSONDecoder().decode(StoreIndexDocument.self, from: Data(bytes)), document.version == StoreIndexDocument.version
            else { throw LayoutError.notALayout("\(manifest.ref ?? "a store index") is not a hoard store index of version \(StoreIndexDocument.version)") }
            documents.append(document)
        }
        let index = store.index
        if documents.isEmpty {
            try await recordFromReferences(manifests, summary: &summary)
            return
        }
        for document in documents {
            for file in document.files {
                guard let digest = BlobDigest(canonical: file.digest), try await store.existingBlob(digest) != nil else {
                    throw LayoutError.badDigest("the store index of \(document.channel) names \(file.filename) as \(file.digest), which the archive lacks")
                }
                try await index.setCondaFile(CondaFileKey(channel: document.channel, label: file.label, subdir: file.subdir, filename: file.filename), digest: digest)
                summary.files += 1
            }
            for entry in document.documents {
                guard let row = entry.row(channel: document.channel) else {
                    throw LayoutError.notALayout("the store index of \(document.channel) has an unreadable row for \(entry.subdir)/\(entry.name)")
                }
                for digest in [row.digest, row.servedDigest, row.zstDigest].compactMap({ $0 }) where try await store.existingBlob(digest) == nil {
                    throw LayoutError.badDigest("\(document.channel)/\(row.subdir)/\(row.name) names \(digest), which the archive lacks")
                }
                // A newer copy already held is kept (an import never moves a channel back in time).
                if let held = try await index.repodata(channel: row.channel, label: row.label, subdir: row.subdir, name: row.name), held.fetchedAt > row.fetchedAt {
                    continue
                }
                try await index.saveRepodata(row)
                summary.documents += 1
            }
            for entry in document.info_layers {
                guard let archive = BlobDigest(canonical: entry.archive), let tgz = BlobDigest(canonical: entry.info_tar_gz),
                    let json = BlobDigest(canonical: entry.index_json)
                else { continue }
                try await index.saveCondaInfoLayers(
                    CondaInfoLayersRow(
                        archive: archive, subdir: entry.subdir, recipe: entry.recipe, infoTarGz: tgz, infoTarGzSize: entry.info_tar_gz_size,
                        indexJSON: json, indexJSONSize: entry.index_json_size))
            }
        }
    }

    /// A layout without hoard's index (another tool's conda-oci-mirror layout): packages by
    /// their archive layers' titles under `<channel>/<subdir>/<name'>:<tag>`, repodata from
    /// `<channel>/<subdir>/repodata.json:latest`.
    private func recordFromReferences(_ manifests: [Parsed], summary: inout LayoutImportSummary) async throws {
        let now = Date().timeIntervalSince1970
        for manifest in manifests {
            guard let ref = manifest.ref, let colon = ref.lastIndex(of: ":") else { continue }
            let parts = ref[..<colon].split(separator: "/").map(String.init)
            guard parts.count >= 3 else { continue }
            let (channel, subdir, leaf) = (parts[parts.count - 3], parts[parts.count - 2], parts[parts.count - 1])
            guard (try? Subdir(subdir)) != nil else { continue }
            if leaf == CondaOCILayout.repodataLeaf, ref.hasSuffix(":latest") {
                guard let json = manifest.layers.first(where: { $0.mediaType == CondaOCINaming.MediaType.repodataJSON }) else { continue }
                let zst = manifest.layers.first { $0.mediaType == CondaOCINaming.MediaType.repodataJSONZst }
                try await store.index.saveRepodata(
                    RepodataRow(channel: channel, label: "", subdir: subdir, name: "repodata.json", digest: json.digest, zstDigest: zst?.digest, fetchedAt: now, validatedAt: now))
                summary.documents += 1
                continue
            }
            for layer in manifest.layers where CondaOCINaming.ArchiveFormat(mediaType: layer.mediaType) != nil {
                guard let title = layer.title, (try? CondaFilename(title)) != nil else { continue }
                try await store.index.setCondaFile(CondaFileKey(channel: channel, subdir: subdir, filename: title), digest: layer.digest)
                summary.files += 1
            }
        }
    }
}
