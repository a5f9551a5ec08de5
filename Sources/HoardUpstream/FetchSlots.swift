import Synchronization

/// Bounds the upstream requests in flight: `acquire` hands out one of `count` slots, or queues
/// the caller (first come, first served) until one is released, the wait passes its timeout, or
/// the caller's task is cancelled.
final class FetchSlots: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var free: Int
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
        /// Callers between taking an id and being served or queued.
        var arriving: Set<UInt64> = []
        /// Arriving callers failed (cancelled or timed out) before they were queued.
        var failedEarly: [UInt64: any Error] = [:]
    }

    struct WaitTimedOut: Error {}

    let count: Int
    private let state: Mutex<State>

    init(count: Int) {
        self.count = max(1, count)
        state = Mutex(State(free: max(1, count)))
    }

    /// Waits for a slot; the slot is given back when the returned permit is released or freed.
    /// Throws `WaitTimedOut` after `timeout`, or `CancellationError`.
    func acquire(timeout: Duration) async throws -> FetchPermit {
        let id = state.withLock { s -> UInt64 in
            s.nextID &+= 1
            s.arriving.insert(s.nextID)
            return s.nextID
        }
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            self?.fail(id, WaitTimedOut())
        }
        defer { timer.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = self.state.withLock { s -> Result<Bool, any Error> in
                    s.arriving.remove(id)
                    if let error = s.failedEarly.removeValue(forKey: id) { return .failure(error) }
                    if s.free > 0 {
                        s.free -= 1
                        return .success(true)
                    }
                    s.waiters.append(Waiter(id: id, continuation: continuation))
                    return .success(false)
                }
                switch outcome {
                case .success(true): continuation.resume()
                case .success(false): break
                case .failure(let error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            self.fail(id, CancellationError())
        }
        return FetchPermit(slots: self)
    }

    /// Gives a slot back: to the longest waiter, else to the pool.
    fileprivate func release() {
        let next = state.withLock { s -> Waiter? in
            if s.waiters.isEmpty {
                s.free += 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.continuation.resume()
    }

    /// Ends waiter `id` with `error` if it is still waiting; remembers it if not yet queued.
    private func fail(_ id: UInt64, _ error: any Error) {
        let waiter = state.withLock { s -> Waiter? in
            if let index = s.waiters.firstIndex(where: { $0.id == id }) { return s.waiters.remove(at: index) }
            // Not queued yet: acquire finds this when it gets there. Already served: nothing to do.
            if s.arriving.contains(id) { s.failedEarly[id] = error }
            return nil
        }
        waiter?.continuation.resume(throwing: error)
    }
}

/// One slot of `FetchSlots`, given back once: explicitly, or when the last reference goes.
public final class FetchPermit: Sendable {
    private let slots: FetchSlots
    private let released = Atomic<Bool>(false)

    fileprivate init(slots: FetchSlots) { self.slots = slots }

    func release() {
        if !released.exchange(true, ordering: .acquiringAndReleasing) { slots.release() }
    }

    deinit { release() }
}
