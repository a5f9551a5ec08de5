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
    let index: StoreIndex

    func run() async throws -> Outcome {
        let rows = try await index.allBlobs()
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
