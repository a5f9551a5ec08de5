import HoardConda
import HoardStore
import NIOPosix
import Synchronization

/// The info layers of package archives, made once from the archive in the store and kept there:
/// the blobs (derived, unpinned: eviction may take them) and a row in `conda_oci_info` naming
/// their digests, so a manifest is described without reading the archive again, and an evicted
/// layer is made again to the same digest.
public final class InfoLayerStore: Sendable {
    /// Bumped when the way layers are made changes (the row says which made it).
    public static let recipe = 1

    /// Makes a package's archive present in the store (the view pulls it through from upstream);
    /// nil: only what the store holds (sync, export).
    public typealias Fetch = @Sendable (CondaOCIPackage) async throws -> Void

    public let store: Store
    /// Extraction and compression block: they run on this pool (the server's document pool).
    public let worker: NIOThreadPool
    private let inFlight = Mutex<[String: Task<CondaOCIInfoLayers, any Error>]>([:])

    public init(store: Store, worker: NIOThreadPool) {
        self.store = store
        self.worker = worker
    }

    /// The layers on record, without making anything.
    public func known(_ package: CondaOCIPackage, subdir: String) async throws -> CondaOCIInfoLayers? {
        try await store.index.condaInfoLayers(archive: package.sha256, subdir: subdir).map(Self.layers)
    }

    /// The layers: on record, else made from the archive (fetched first when the store lacks it
    /// and `fetch` is given). One making per archive at a time.
    public func layers(_ package: CondaOCIPackage, subdir: String, fetch: Fetch? = nil) async throws -> CondaOCIInfoLayers {
        if let known = try await known(package, subdir: subdir) { return known }
        let key = "\(package.sha256.hex)/\(subdir)"
        let task = inFlight.withLock { tasks in
            if let task = tasks[key] { return task }
            let task = Task { try await self.make(package, subdir: subdir, fetch: fetch, recorded: nil) }
            tasks[key] = task
            return task
        }
        defer { inFlight.withLock { _ = $0.removeValue(forKey: key) } }
        return try await task.value
    }

    /// The rows naming `digest` as a layer (an info blob asked for by digest).
    public func rows(naming digest: BlobDigest) async throws -> [CondaInfoLayersRow] {
        try await store.index.condaInfoLayers(layer: digest)
    }

    /// Makes the layer blobs of `row` present again (they were evicted), from the archive.
    /// Throws `layerChanged` when the bytes come out different from the record.
    public func restore(_ row: CondaInfoLayersRow, package: CondaOCIPackage, fetch: Fetch? = nil) async throws {
        if try await store.contains(row.infoTarGz), try await store.contains(row.indexJSON) { return }
        _ = try await make(package, subdir: row.subdir, fetch: fetch, recorded: row)
    }

    private func make(_ package: CondaOCIPackage, subdir: String, fetch: Fetch?, recorded: CondaInfoLayersRow?) async throws
        -> CondaOCIInfoLayers
    {
        if try await !store.contains(package.sha256) {
            guard let fetch else { throw CondaOCIError.archiveNotInStore(package.filename.rawValue) }
            try await fetch(package)
        }
        let reader = try await store.open(package.sha256)
        let filename = package.filename
        let made = try await worker.runIfActive { () throws -> (tarGz: [UInt8], index: [UInt8]) in
            do {
                let entries = try reader.withContiguousBytes { bytes in try PackageInfoReader.read(bytes, filename: filename) }
                guard case .file(let index, _) = entries.first(where: { $0.path == "info/index.json" })?.content else {
                    throw PackageInfoError.noIndexJSON(filename: filename.rawValue)
                }
                return (try InfoTarball.make(entries), try InfoIndexJSON.layer(index, subdir: subdir, filename: filename.rawValue))
            } catch let error as PackageInfoError {
                throw CondaOCIError.info(error)
            }
        }
        let tarGz = try await store.ingest(bytes: made.tarGz)
        let index = try await store.ingest(bytes: made.index)
        let row = CondaInfoLayersRow(
            archive: package.sha256, subdir: subdir, recipe: Self.recipe, infoTarGz: tarGz.digest, infoTarGzSize: tarGz.size,
            indexJSON: index.digest, indexJSONSize: index.size)
        if let recorded, recorded.infoTarGz != row.infoTarGz || recorded.indexJSON != row.indexJSON {
            try await store.index.saveCondaInfoLayers(row)
            throw CondaOCIError.layerChanged(
                filename: filename.rawValue, recorded: recorded.infoTarGz != row.infoTarGz ? recorded.infoTarGz : recorded.indexJSON,
                made: recorded.infoTarGz != row.infoTarGz ? row.infoTarGz : row.indexJSON)
        }
        if recorded == nil { try await store.index.saveCondaInfoLayers(row) }
        return Self.layers(row)
    }

    static func layers(_ row: CondaInfoLayersRow) -> CondaOCIInfoLayers {
        CondaOCIInfoLayers(
            infoTarGz: CondaOCIBlob(digest: row.infoTarGz, size: row.infoTarGzSize),
            indexJSON: CondaOCIBlob(digest: row.indexJSON, size: row.indexJSONSize))
    }
}
