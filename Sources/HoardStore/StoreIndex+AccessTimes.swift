import GRDB

/// Access times as nodes on one bucket publish them (see `SharedAccessTimes`).
extension StoreIndex {
    /// Every blob whose last access (a read, or its commit) is later than `since` (unix seconds),
    /// with that time.
    public func accessTimes(since: Double) async throws -> [BlobDigest: Double] {
        try await pool.read { db in
            var times: [BlobDigest: Double] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT digest, last_access FROM blob WHERE last_access > ?", arguments: [since])
            while let row = try rows.next() {
                let text: String = row["digest"]
                if let digest = BlobDigest(canonical: text) { times[digest] = row["last_access"] }
            }
            return times
        }
    }
}
