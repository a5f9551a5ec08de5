import GRDB

/// What the store holds of one conda subdir: files and their bytes (shards not counted).
public struct CondaSubdirSummary: Sendable, Hashable {
    public let channel: String
    /// `""` for the channel's main label.
    public let label: String
    public let subdir: String
    public let files: Int
    public let bytes: Int64
}

/// The read-only queries behind the web page (`/`): what is held, per subdir and per file. With a
/// shared index, answered from the cache after refreshing it from a listing of the bucket.
extension StoreIndex {
    /// Every subdir with package files in the store, with their count and bytes. Shards
    /// (`shards/<hex>.msgpack.zst`) are metadata, not packages, so they are left out.
    public func condaSubdirSummaries() async throws -> [CondaSubdirSummary] {
        // Every name of every channel: one listing of index/conda/ (the page is not a hot path).
        if shared != nil { try await refreshCondaNames([]) }
        return try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT f.channel, f.label, f.subdir, COUNT(*) AS files, COALESCE(SUM(b.size), 0) AS bytes
                FROM conda_file f JOIN blob b ON b.digest = f.digest
                WHERE f.filename NOT LIKE 'shards/%'
                GROUP BY f.channel, f.label, f.subdir
                ORDER BY f.channel, f.label, f.subdir
                """).map { row in
                CondaSubdirSummary(
                    channel: row["channel"], label: row["label"], subdir: row["subdir"],
                    files: row["files"], bytes: row["bytes"])
            }
        }
    }

    /// The (label, subdir) pairs of `channel` whose `document` (e.g. `repodata.json`) is held.
    public func repodataSubdirs(channel: String, document: String) async throws -> [(label: String, subdir: String)] {
        if shared != nil { try await refreshDocuments([channel]) }
        return try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT label, subdir FROM repodata WHERE channel = ? AND name = ? ORDER BY label, subdir
                """, arguments: [channel, document]).map { (label: $0["label"], subdir: $0["subdir"]) }
        }
    }

    /// Which of `filenames` (one page of a listing) the store holds for the subdir: named and
    /// with their blob present. One query, however long the page.
    public func condaFilesHeld(channel: String, label: String, subdir: String, filenames: [String]) async throws -> Set<String> {
        guard !filenames.isEmpty else { return [] }
        if shared != nil { try await refreshCondaNames([channel, label, subdir]) }
        // SQLite's default limit on bound parameters is 32766; a page is far smaller, but chunk anyway.
        var held: Set<String> = []
        for chunk in stride(from: 0, to: filenames.count, by: 500).map({ Array(filenames[$0..<min($0 + 500, filenames.count)]) }) {
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let arguments = StatementArguments([channel, label, subdir] + chunk)
            let found = try await pool.read { db in
                try String.fetchAll(db, sql: """
                    SELECT f.filename FROM conda_file f JOIN blob b ON b.digest = f.digest
                    WHERE f.channel = ? AND f.label = ? AND f.subdir = ? AND f.filename IN (\(marks))
                    """, arguments: arguments)
            }
            held.formUnion(found)
        }
        return held
    }
}
