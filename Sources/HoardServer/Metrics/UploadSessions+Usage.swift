extension UploadSessions {
    /// Open sessions and the bytes they hold, for `/metrics` (zero when they cannot be listed).
    func usage() async -> (count: Int, bytes: Int64) {
        let entries = (try? await store.list()) ?? []
        return (entries.count, entries.reduce(0) { $0 + $1.size })
    }
}
