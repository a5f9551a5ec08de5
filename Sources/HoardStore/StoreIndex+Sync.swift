import GRDB

/// What `hoard sync` reads from the index: which channel subdirs hold a repodata snapshot, and
/// which package files of a subdir the store holds (with their sizes). With a shared index, from
/// the cache refreshed by a listing of the bucket.
extension StoreIndex {
    /// `(channel, subdir)` of every main-label `repodata.json` snapshot, sorted.
    public func repodataSubdirs() async throws -> [(channel: String, subdir: String)] {
        if shared != nil { try await refreshDocuments([]) }
        return try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT channel, subdir FROM repodata WHERE label = '' AND name = 'repodata.json' AND subdir != ''
                ORDER BY channel, subdir
                """).map { ($0["channel"], $0["subdir"]) }
        }
    }

    /// The package files (not shards) of a main-label channel subdir the store holds: filename →
    /// (digest, size).
    public func condaPackages(channel: String, subdir: String) async throws -> [String: (digest: BlobDigest, size: Int64)] {
        if shared != nil { try await refreshCondaNames([channel, "", subdir]) }
        return try await pool.read { db in
            var out: [String: (digest: BlobDigest, size: Int64)] = [:]
            let rows = try Row.fetchAll(db, sql: """
                SELECT f.filename, f.digest, b.size FROM conda_file f JOIN blob b ON b.digest = f.digest
                WHERE f.channel = ? AND f.label = '' AND f.subdir = ? AND f.filename NOT LIKE 'shards/%'
                """, arguments: [channel, subdir])
            for row in rows {
                let text: String = row["digest"]
                guard let digest = try? BlobDigest(parsing: text) else { continue }
                out[row["filename"]] = (digest, row["size"])
            }
            return out
        }
    }
}
