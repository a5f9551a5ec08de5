import HoardStore
import Synchronization

/// The representations the fast path may serve, by raw request path (no query). The slow path
/// publishes an entry after it served that path itself, every check made (channel, name, auth,
/// freshness); the fast path reads it. Bounded in entries, in open blob readers and in memory held
/// by document bodies: past a bound, the oldest half goes (a dropped entry only means that path
/// takes the slow path once more). Also collects the blob accesses of fast-path hits, which
/// `flushAccesses` hands to the store's index for eviction.
final class HotTable: Sendable {
    let maxEntries: Int
    let maxReaders: Int
    let maxHeldBytes: Int
    /// Whether a blob body (package, OCI blob) is served only after the route's check is asked
    /// again: when the store is shared by several nodes, another node may delete a blob or its
    /// name, and this node's local copy would otherwise be served on and on.
    let rechecksBlobs: Bool

    private struct State {
        var entries: [String: (entry: HotEntry, serial: UInt64)] = [:]
        var readers = 0
        var heldBytes = 0
        var serial: UInt64 = 0
        var accesses: [BlobDigest: Double] = [:]
    }

    private let state = Mutex(State())
    /// Requests the fast path answered (for tests and comparison runs).
    private let answered = Atomic<Int>(0)

    init(maxEntries: Int = 16_384, maxReaders: Int = 1_024, maxHeldBytes: Int = 256 << 20, rechecksBlobs: Bool = false) {
        self.rechecksBlobs = rechecksBlobs
        self.maxEntries = max(1, maxEntries)
        self.maxReaders = max(1, maxReaders)
        self.maxHeldBytes = max(0, maxHeldBytes)
    }

    var hits: Int { answered.load(ordering: .relaxed) }
    var count: Int { state.withLock { $0.entries.count } }

    func countHit() { answered.add(1, ordering: .relaxed) }

    /// The entry for `path` if it still holds at `now` (Unix seconds); an expired one is dropped.
    func lookup(_ path: String, now: Double) -> HotEntry? {
        state.withLock { state in
            guard let found = state.entries[path] else { return nil }
            if let expires = found.entry.expires, now >= expires {
                Self.remove(path, from: &state)
                return nil
            }
            return found.entry
        }
    }

    func publish(_ path: String, _ entry: HotEntry) {
        guard entry.heldBytes <= maxHeldBytes else { return }
        state.withLock { state in
            Self.remove(path, from: &state)
            if state.entries.count >= maxEntries || state.heldBytes + entry.heldBytes > maxHeldBytes
                || (entry.holdsReader && state.readers >= maxReaders)
            {
                Self.dropOldestHalf(&state)
            }
            state.serial &+= 1
            state.entries[path] = (entry, state.serial)
            state.heldBytes += entry.heldBytes
            if entry.holdsReader { state.readers += 1 }
        }
    }

    func remove(_ path: String) {
        state.withLock { Self.remove(path, from: &$0) }
    }

    /// Drops every entry answering with this blob (unlinked from a repository, or gone from the store).
    func remove(blob digest: BlobDigest) {
        state.withLock { state in
            for (path, found) in state.entries where found.entry.body.digest == digest {
                Self.remove(path, from: &state)
            }
        }
    }

    /// Drops every entry answering with one of these blobs (eviction is about to judge them:
    /// an idle entry must not keep them from going). One pass over the table.
    func remove(blobs digests: Set<BlobDigest>) {
        guard !digests.isEmpty else { return }
        state.withLock { state in
            for (path, found) in state.entries {
                if let digest = found.entry.body.digest, digests.contains(digest) { Self.remove(path, from: &state) }
            }
        }
    }

    /// Notes that a fast-path hit read this blob (eviction must see it as recently used).
    func noteAccess(_ digest: BlobDigest, at time: Double) {
        state.withLock { $0.accesses[digest] = time }
    }

    /// Hands the accesses noted since the last call to the store's index.
    func flushAccesses(to store: Store) async throws {
        let times = state.withLock { state in
            defer { state.accesses.removeAll(keepingCapacity: true) }
            return state.accesses
        }
        if !times.isEmpty { try await store.index.recordAccess(times) }
    }

    private static func remove(_ path: String, from state: inout State) {
        guard let old = state.entries.removeValue(forKey: path) else { return }
        state.heldBytes -= old.entry.heldBytes
        if old.entry.holdsReader { state.readers -= 1 }
    }

    private static func dropOldestHalf(_ state: inout State) {
        let serials = state.entries.values.map(\.serial).sorted()
        guard !serials.isEmpty else { return }
        let cut = serials[serials.count / 2]
        for (path, found) in state.entries where found.serial <= cut {
            remove(path, from: &state)
        }
    }
}
