/// Tells an unmounted blob volume from ordinary damage before recovery runs.
///
/// Recovery drops the rows of blobs whose files are gone, which is right for a few lost files and
/// disastrous when the whole blob directory is missing (a volume that did not mount): every row,
/// pushed OCI tags included, would go. So: when the index names blobs and the blob directory is
/// missing or holds none of them, the store is `absent`.
struct BlobVolumeCheck {
    enum Outcome: Equatable {
        /// No rows, or at least one named blob is present.
        case present
        /// The index names this many blobs and none of them is on disk.
        case absent(indexedBlobs: Int)
    }

    let layout: StoreLayout

    /// Reads the index read-only, so that a refused start leaves it exactly as it was (opening it
    /// for writing would migrate and checkpoint it).
    func run() async throws -> Outcome {
        guard try POSIX.fileSize(layout.indexPath) != nil else { return .present }  // a new store
        let rows = try await ReadOnlyIndex(path: layout.indexPath, root: layout.root).allBlobs()
        guard !rows.isEmpty else { return .present }
        guard POSIX.isDirectory(layout.blobsDirectory) else { return .absent(indexedBlobs: rows.count) }
        // Stops at the first blob found, so a healthy store costs one stat.
        for row in rows {
            let size: Int64? = try POSIX.fileSize(layout.blobPath(row.digest))
            if size != nil { return .present }
        }
        return .absent(indexedBlobs: rows.count)
    }
}
