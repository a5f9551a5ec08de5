import HoardStore
import Logging
import AsyncAlgorithms
import ServiceLifecycle

/// Background upkeep while serving: writes collected access times and, with a size limit,
/// evicts least recently used blobs.
struct MaintenanceService: Service {
    let store: Store
    let settings: ServerSettings
    /// Upload sessions: the bytes they hold count against `--max-size`.
    let uploads: UploadSessions?
    let logger: Logger
    /// The fast path's table: the blob reads of its hits count for eviction as the slow path's do.
    var hot: HotTable? = nil
    /// Counts evictions for `/metrics`.
    var metrics: HoardMetrics? = nil

    func run() async throws {
        // Ends when the server shuts down; the server writes pending state itself after that.
        let ticks = AsyncTimerSequence(interval: settings.maintenanceInterval, clock: .suspending).cancelOnGracefulShutdown()
        for await _ in ticks {
            await runOnce()
        }
        try? await hot?.flushAccesses(to: store)
    }

    func runOnce() async {
        do {
            try await hot?.flushAccesses(to: store)
            try await store.flushAccessTimes()
            if let limit = settings.maxSize {
                // Blobs may use what upload sessions leave of the limit.
                let held = await uploads?.bytesHeld() ?? 0
                let report = try await Evictor(store: store, limit: ByteSize(bytes: max(0, limit.bytes - held))) { [hot] candidates in
                    // The fast path's idle entries hold readers; the blobs they hold must be free to go.
                    hot?.remove(blobs: Set(candidates))
                }.run()
                metrics?.evicted(report)
            }
        } catch {
            logger.error("store maintenance failed", metadata: ["error": "\(error)"])
        }
    }
}
