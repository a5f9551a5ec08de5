import Foundation
import GRDB

/// The derived info layers of packages (`conda_oci_info`) in the shared index: the row under
/// `index/conda-oci-info/archive/…`, and a copy under each layer's digest
/// (`index/conda-oci-info/layer/<layer>/…`) so that a layer asked for by digest is found with one
/// listing. Rows name no blob, so caching one needs nothing else.
extension StoreIndex {
    func publishCondaInfoLayers(_ row: CondaInfoLayersRow, now: Double, shared: SharedIndex) async throws {
        let record = SharedCondaInfo(
            archive: row.archive.hex, subdir: row.subdir, recipe: row.recipe, infoTarGz: row.infoTarGz.hex,
            infoTarGzSize: row.infoTarGzSize, indexJSON: row.indexJSON.hex, indexJSONSize: row.indexJSONSize, createdAt: now)
        // Pointers first, the row last: whoever finds the row finds its pointers too. Layers are
        // made reproducibly (same archive, same recipe: same digests), so last writer wins.
        for layer in [row.infoTarGz, row.indexJSON] {
            try await shared.write(record, at: SharedIndex.condaInfoLayerKey(layer: layer, archive: row.archive, subdir: row.subdir))
        }
        try await shared.write(record, at: SharedIndex.condaInfoKey(archive: row.archive, subdir: row.subdir))
    }

    func sharedCondaInfoLayers(archive: BlobDigest, subdir: String) async throws -> CondaInfoLayersRow? {
        guard let shared else { return nil }
        let key = SharedIndex.condaInfoKey(archive: archive, subdir: subdir)
        guard let record = try await shared.read(SharedCondaInfo.self, at: key)?.value else { return nil }
        return try await cacheCondaInfo([(key, record)]).first?.row
    }

    func sharedCondaInfoLayers(layer: BlobDigest) async throws -> [CondaInfoLayersRow] {
        guard let shared else { return [] }
        let pointers = try await shared.objects.list(prefix: SharedIndex.directory(SharedIndex.Kind.condaOCIInfo, ["layer", layer.hex]))
        return try await cacheCondaInfo(try await shared.readAll(SharedCondaInfo.self, at: pointers.map(\.key))).map(\.row)
    }

    /// Caches every row the bucket holds (for a rebuild); returns how many.
    func refreshCondaInfo() async throws -> Int {
        guard let shared else { return 0 }
        let rows = try await shared.objects.list(prefix: SharedIndex.directory(SharedIndex.Kind.condaOCIInfo, ["archive"]))
        return try await cacheCondaInfo(try await shared.readAll(SharedCondaInfo.self, at: rows.map(\.key))).count
    }

    private func cacheCondaInfo(_ records: [(SharedKey, SharedCondaInfo)]) async throws -> [(row: CondaInfoLayersRow, createdAt: Double)] {
        var rows: [(row: CondaInfoLayersRow, createdAt: Double)] = []
        for (key, record) in records {
            let row = CondaInfoLayersRow(
                archive: try BlobDigest(record: record.archive, key: key), subdir: record.subdir, recipe: record.recipe,
                infoTarGz: try BlobDigest(record: record.infoTarGz, key: key), infoTarGzSize: record.infoTarGzSize,
                indexJSON: try BlobDigest(record: record.indexJSON, key: key), indexJSONSize: record.indexJSONSize)
            rows.append((row, record.createdAt))
        }
        guard !rows.isEmpty else { return [] }
        try await pool.write { [rows] db in
            for (row, createdAt) in rows { try Self.insertCondaInfoLayers(db, row, createdAt: createdAt) }
        }
        return rows
    }
}
