import HoardStore
import Synchronization

/// The answers the fast path may give, by raw request path (query-less). The slow path publishes
/// an entry after it served that path itself, with every check made; the fast path reads it.
/// Bounded in entries and in the memory held by document bodies: past a bound, the oldest half
/// goes (a dropped entry only means that path takes the slow path once more).
final class HotTable: Sendable {
    let maxEntries: Int
    let maxHeldBytes: Int

    private struct State {
        var entries: [String: (entry: HotEntry, serial: UInt64)] = [:]
        var heldBytes = 0
        var serial: UInt64 = 0
    }

    private let state = Mutex(State())
    /// Requests the fast path answered (for tests and comparison runs).
    private let answered = Atomic<Int>(0)

    var hits: Int { answered.load(ordering: .relaxed) }

    func countHit() { answered.add(1, ordering: .relaxed) }

    init(maxEntries: Int = 16_384, maxHeldBytes: Int = 256 << 20) {
        self.maxEntries = max(1, maxEntries)
        self.maxHeldBytes = max(0, maxHeldBytes)
    }

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
            if state.entries.count >= maxEntries || state.heldBytes + entry.heldBytes > maxHeldBytes {
                Self.dropOldestHalf(&state)
            }
            state.serial &+= 1
            state.entries[path] = (entry, state.serial)
            state.heldBytes += entry.heldBytes
        }
    }

    func remove(_ path: String) {
        state.withLock { Self.remove(path, from: &$0) }
    }

    /// Drops every entry answering with this blob (deleted from a repository, or gone from the store).
    func remove(blob digest: BlobDigest) {
        state.withLock { state in
            for (path, found) in state.entries where found.entry.body.digest == digest {
                Self.remove(path, from: &state)
            }
        }
    }

    var count: Int { state.withLock { $0.entries.count } }

    private static func remove(_ path: String, from state: inout State) {
        if let old = state.entries.removeValue(forKey: path) { state.heldBytes -= old.entry.heldBytes }
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
