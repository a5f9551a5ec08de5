import HoardStore
import Logging
import AsyncAlgorithms
import ServiceLifecycle

/// Background upkeep while serving: writes collected access times and, with a size limit,
/// evicts least recently used blobs. With several nodes on one bucket (`shared`), every node
/// publishes its access times and only the maintenance lease holder evicts and collects garbage.
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
    /// The upkeep shared with other nodes (nil for a single node: eviction as it always was).
    var shared: SharedMaintenance? = nil

    func run() async throws {
        // Ends when the server shuts down; the server writes pending state itself after that.
        let ticks = AsyncTimerSequence(interval: settings.maintenanceInterval, clock: .suspending).cancelOnGracefulShutdown()
        for await _ in ticks {
            await runOnce()
        }
        try? await hot?.flushAccesses(to: store)
        await shared?.stop()
    }

    func runOnce() async {
        do {
            try await hot?.flushAccesses(to: store)
            if let shared {
                // Blobs may use what upload sessions leave of the limit.
                let held = await uploads?.bytesHeld() ?? 0
                let report = try await shared.tick(limit: settings.maxSize.map { ByteSize(bytes: max(0, $0.bytes - held)) }) { [hot] candidates in
                    hot?.remove(blobs: Set(candidates))
                }
                if let eviction = report.eviction { metrics?.evicted(eviction) }
                return
            }
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
