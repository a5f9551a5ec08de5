import GRDB

extension StoreIndex {
    /// The package files of one channel subdir the store holds (names whose blob row exists: the
    /// foreign key removes a name with its blob). Shards (`shards/...`) are not packages.
    /// With a shared index, the cached names are first refreshed from a listing of the bucket.
    public func condaPackageFilenames(channel: String, label: String, subdir: String) async throws -> Set<String> {
        if shared != nil { try await refreshCondaNames([channel, label, subdir]) }
        return try await pool.read { db in
            Set(try String.fetchAll(db, sql: """
                SELECT filename FROM conda_file WHERE channel = ? AND label = ? AND subdir = ?
                    AND (filename LIKE '%.conda' OR filename LIKE '%.tar.bz2')
                """, arguments: [channel, label, subdir]))
        }
    }
}
