import GRDB

extension StoreIndex {
    /// The package files of one channel subdir the store holds (names whose blob row exists: the
    /// foreign key removes a name with its blob). Shards (`shards/...`) are not packages.
    public func condaPackageFilenames(channel: String, label: String, subdir: String) async throws -> Set<String> {
        try await pool.read { db in
            Set(try String.fetchAll(db, sql: """
                SELECT filename FROM conda_file WHERE channel = ? AND label = ? AND subdir = ?
                    AND (filename LIKE '%.conda' OR filename LIKE '%.tar.bz2')
                """, arguments: [channel, label, subdir]))
        }
    }
}
