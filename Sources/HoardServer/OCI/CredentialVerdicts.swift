import Synchronization

/// Recent bcrypt outcomes by credential hash (never the password itself), so a client repeating
/// the same credentials, right or wrong, costs one bcrypt per `lifetime`.
///
/// The htpasswd file is read once at start, so a verdict cannot go stale while it is kept.
/// Successes and failures are kept apart and each bounded, so a flood of distinct wrong
/// passwords cannot push out the good ones.
final class CredentialVerdicts: Sendable {
    private struct Entries {
        var valid: [String: ContinuousClock.Instant] = [:]
        var invalid: [String: ContinuousClock.Instant] = [:]
    }

    let lifetime: Duration
    let capacity: Int
    private let entries = Mutex(Entries())

    init(lifetime: Duration, capacity: Int = 1000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// true/false when these credentials were checked within `lifetime`; nil when unknown.
    func verdict(_ key: String, now: ContinuousClock.Instant = .now) -> Bool? {
        entries.withLock { e in
            if let until = e.valid[key] {
                if until > now { return true }
                e.valid[key] = nil
            }
            if let until = e.invalid[key] {
                if until > now { return false }
                e.invalid[key] = nil
            }
            return nil
        }
    }

    func record(_ key: String, valid: Bool, now: ContinuousClock.Instant = .now) {
        let until = now + lifetime
        let capacity = capacity
        entries.withLock { e in
            if valid {
                Self.insert(key, until, into: &e.valid, capacity: capacity, now: now)
            } else {
                Self.insert(key, until, into: &e.invalid, capacity: capacity, now: now)
            }
        }
    }

    private static func insert(
        _ key: String, _ until: ContinuousClock.Instant, into map: inout [String: ContinuousClock.Instant], capacity: Int,
        now: ContinuousClock.Instant
    ) {
        if map.count >= capacity {
            map = map.filter { $0.value > now }
            // Still full of live entries: forget them all (a cache, not a record; the cost is
            // one bcrypt per client on its next request).
            if map.count >= capacity { map.removeAll(keepingCapacity: true) }
        }
        map[key] = until
    }
}
