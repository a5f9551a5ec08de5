import Synchronization

/// Counts wrong credentials per client address in fixed one-minute windows; past `limit` in a
/// window the client is refused (429) without bcrypt running until the window ends.
///
/// Memory is bounded by `capacity` addresses: when full, finished windows are dropped, and if
/// every address is still active they are all forgotten (a flood from that many addresses is
/// then held back only by the bcrypt pool's single thread and the verdict cache).
final class AuthFailureLimiter: Sendable {
    private struct Window {
        var start: ContinuousClock.Instant
        var failures: Int
    }

    static let window: Duration = .seconds(60)

    let limit: Int
    let capacity: Int
    private let windows = Mutex<[String: Window]>([:])

    init(limit: Int, capacity: Int = 10_000) {
        self.limit = limit
        self.capacity = capacity
    }

    /// Addresses currently tracked (for tests; never more than `capacity`).
    var trackedClients: Int { windows.withLock { $0.count } }

    /// Seconds until `client` may try again; nil when it is not held back.
    func retryAfter(_ client: String, now: ContinuousClock.Instant = .now) -> Int? {
        windows.withLock { windows -> Int? in
            guard let window = windows[client] else { return nil }
            let end = window.start + Self.window
            guard end > now else {
                windows[client] = nil
                return nil
            }
            guard window.failures >= limit else { return nil }
            let left = (end - now).components
            // Whole seconds, rounded up, at least 1 (Retry-After is in seconds).
            return max(1, Int(left.seconds) + (left.attoseconds > 0 ? 1 : 0))
        }
    }

    func recordFailure(_ client: String, now: ContinuousClock.Instant = .now) {
        let capacity = capacity
        windows.withLock { windows in
            if var window = windows[client], window.start + Self.window > now {
                window.failures += 1
                windows[client] = window
                return
            }
            if windows.count >= capacity {
                windows = windows.filter { $0.value.start + Self.window > now }
                if windows.count >= capacity { windows.removeAll(keepingCapacity: true) }
            }
            windows[client] = Window(start: now, failures: 1)
        }
    }
}
