import GRDB

/// Reads blob rows; the verifier needs nothing more, so it can run on the live index or on a
/// read-only view of it.
public protocol BlobRowSource: Sendable {
    func allBlobs() async throws -> [BlobRecord]
    func blob(_ digest: BlobDigest) async throws -> BlobRecord?
}

extension StoreIndex: BlobRowSource {}

/// The index opened read-only beside whatever process owns the store.
///
/// In WAL mode SQLite readers never block the writer nor are blocked by it, and a read-only
/// connection writes nothing to the database file: no migration, no checkpoint. Each read is one
/// transaction, so it sees a consistent snapshot of the rows.
public final class ReadOnlyIndex: BlobRowSource {
    private let queue: DatabaseQueue

    /// Throws `noStore` when there is no index at `path` (a read-only open must not create one).
    public init(path: String, root: String) throws(StoreError) {
        let size: Int64? = try POSIX.fileSize(path)
        guard size != nil else { throw .noStore(root: root) }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        configuration.label = "hoard-index-readonly"
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            if try queue.read({ try IndexSchema.migrator.hasBeenSuperseded($0) }) {
                throw StoreError.index("\(path) was written by a newer hoard; upgrade hoard to read it")
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .index("cannot open \(path) read-only: \(error)")
        }
    }

    /// One read transaction on the index.
    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await queue.read(body)
    }

    public func allBlobs() async throws -> [BlobRecord] {
        try await queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM blob ORDER BY digest").map { try BlobRecord(row: $0) }
        }
    }

    public func blob(_ digest: BlobDigest) async throws -> BlobRecord? {
        try await queue.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM blob WHERE digest = ?", arguments: [digest.hex])
                .map { try BlobRecord(row: $0) }
        }
    }
}
