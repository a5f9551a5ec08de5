#if canImport(Glibc)
import Glibc
#endif

/// Blobs as files at `<root>/blobs/sha256/<first two hex>/<64 hex>`, ingested through temp
/// files in `<root>/tmp/ingest/` (`cache-layout.md`). Every system call runs on the store's own
/// thread pools (`BlobIO`), never on the threads that answer requests.
public final class FileBlobStore: BlobStore {
    public let layout: StoreLayout
    let io: BlobIO

    public init(layout: StoreLayout) {
        self.layout = layout
        self.io = BlobIO()
    }

    /// Sessions under `tmp/uploads/`, their files read and written on the same pools.
    public var uploads: any BlobUploads { FileBlobUploads(layout: layout, io: io) }

    public func size(of digest: BlobDigest) async throws(StoreError) -> Int64? {
        let path = layout.blobPath(digest)
        return try await io.run(path) { () throws(StoreError) in try POSIX.fileSize(path) }
    }

    public func open(_ digest: BlobDigest) async throws(StoreError) -> any BlobReader {
        let path = layout.blobPath(digest)
        let io = self.io
        let reader = try await io.run(path) { () throws(StoreError) in try FileBlobReader.open(path: path, digest: digest, io: io) }
        guard let reader else { throw .blobNotFound(digest) }
        return reader
    }

    public func makeWriter(expectedDigest: BlobDigest?, expectedSize: Int64?, readersFirst: Bool) async throws(StoreError) -> any BlobWriter {
        let (layout, io) = (self.layout, self.io)
        return try await io.run(layout.ingestDirectory) { () throws(StoreError) in
            try FileBlobWriter(layout: layout, io: io, expectedDigest: expectedDigest, expectedSize: expectedSize)
        }
    }

    public func delete(_ digest: BlobDigest) async throws(StoreError) {
        let path = layout.blobPath(digest)
        try await io.run(path) { () throws(StoreError) in try POSIX.unlinkIfPresent(path) }
    }

    // MARK: Maintenance

    public func prepare() async throws(StoreError) {
        let directories = [layout.blobsDirectory, layout.ingestDirectory, layout.uploadsDirectory]
        try await io.run(layout.root) { () throws(StoreError) in
            for directory in directories { try POSIX.makeDirectories(directory) }
        }
    }

    public func removeLeftovers() async throws(StoreError) -> Int {
        let directory = layout.ingestDirectory
        let uploads = layout.uploadsDirectory
        return try await io.run(directory) { () throws(StoreError) in
            let names = try POSIX.listDirectory(directory)
            for name in names { try POSIX.removeTree(directory + "/" + name) }
            return try names.count + FileBlobUploads.removeStrays(in: uploads)
        }
    }

    public func entries() async throws(StoreError) -> [BlobStoreEntry] {
        let directory = layout.blobsDirectory
        return try await io.run(directory) { () throws(StoreError) in try Self.walk(directory) }
    }

    public func removeForeign(_ entry: BlobStoreEntry) async throws(StoreError) {
        let path = entry.location
        // Only ever something under the blob directory, as `entries()` listed it.
        guard path.hasPrefix(layout.blobsDirectory + "/") else { return }
        try await io.run(path) { () throws(StoreError) in try POSIX.removeTree(path) }
    }

    /// Every file in the fan-out directories, and anything else found there.
    private static func walk(_ blobsDirectory: String) throws(StoreError) -> [BlobStoreEntry] {
        var entries: [BlobStoreEntry] = []
        for fanout in try POSIX.listDirectory(blobsDirectory).sorted() {
            let directory = blobsDirectory + "/" + fanout
            guard POSIX.isDirectory(directory) else {
                entries.append(BlobStoreEntry(digest: nil, location: directory, size: try POSIX.fileSize(directory) ?? 0))
                continue
            }
            for name in try POSIX.listDirectory(directory).sorted() {
                let path = directory + "/" + name
                let digest = (try? BlobDigest(parsing: name)).flatMap { $0.prefix == fanout ? $0 : nil }
                let size = try POSIX.fileSize(path)
                entries.append(BlobStoreEntry(digest: size == nil ? nil : digest, location: path, size: size ?? 0))
            }
        }
        return entries
    }
}
