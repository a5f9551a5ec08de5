import GRDB

/// Who names a blob: blobs are shared by digest, names are not, so a blob that only a protected
/// channel names must not be handed out through any other name.
extension StoreIndex {
    /// The channels whose conda files name `digest`.
    public func condaChannels(naming digest: BlobDigest) async throws -> Set<String> {
        try await pool.read { db in
            Set(try String.fetchAll(db, sql: "SELECT DISTINCT channel FROM conda_file WHERE digest = ?", arguments: [digest.hex]))
        }
    }

    /// Whether any OCI repository (pushed content) holds `digest`.
    public func ociHasBlobInAnyRepository(_ digest: BlobDigest) async throws -> Bool {
        try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM oci_blob WHERE digest = ?)", arguments: [digest.hex]) ?? false
        }
    }
}
