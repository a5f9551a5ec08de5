import Dispatch
import Foundation
import Synchronization

/// Work nobody waits for: a writer cancelled (or dropped) from synchronous code aborts its
/// multipart upload here, and a blob read from the bucket is copied to the node's local cache.
/// Each runs as its own task, tracked so that `settle()` can wait for all of them (a test's check
/// that nothing was left, a store closing). A clean-up that fails (the bucket unreachable) leaves
/// an upload `removeLeftovers()` aborts once it is older than the grace period.
final class BackgroundWork: Sendable {
    private let running = Mutex<[UUID: Task<Void, Never>]>([:])

    func run(_ operation: @escaping @Sendable () async -> Void) {
        let id = UUID()
        // Registered under the lock the task takes to unregister itself: it cannot finish first.
        running.withLock { running in
            running[id] = Task { [weak self] in
                await operation()
                _ = self?.running.withLock { $0.removeValue(forKey: id) }
            }
        }
    }

    /// Waits until everything started so far (and anything it started) has finished.
    func settle() async {
        while true {
            let tasks = running.withLock { Array($0.values) }
            if tasks.isEmpty { return }
            for task in tasks { await task.value }
        }
    }
}

/// Runs async work to completion from a thread that may block (`withContiguousBytes`, whose
/// callers run it on a worker pool). The work runs on `executor` (the spool pool's threads), so
/// a caller blocking a thread of the cooperative pool cannot starve it. BLOCKING: never from an
/// event loop (the HTTP client's I/O runs there) nor from the executor's own threads.
enum BlockingBridge {
    private final class Outcome<T: Sendable>: Sendable {
        let value = Mutex<Result<T, any Error>?>(nil)
    }

    static func wait<T: Sendable>(on executor: any TaskExecutor, _ operation: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = Outcome<T>()
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: executor) {
            let result: Result<T, any Error>
            do { result = .success(try await operation()) } catch { result = .failure(error) }
            outcome.value.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        guard let result = outcome.value.withLock({ $0 }) else { throw CancellationError() }
        return try result.get()
    }
}
