import HoardStore
import Logging
import AsyncAlgorithms
import ServiceLifecycle

/// Background upkeep while serving: writes collected access times and, with a size limit,
/// evicts least recently used blobs.
struct MaintenanceService: Service {
    let store: Store
    let settings: ServerSettings
    let logger: Logger

    func run() async throws {
        // Ends when the server shuts down; the server writes pending state itself after that.
        let ticks = AsyncTimerSequence(interval: settings.maintenanceInterval, clock: .suspending).cancelOnGracefulShutdown()
        for await _ in ticks {
            await runOnce()
        }
    }

    func runOnce() async {
        do {
            try await store.flushAccessTimes()
            if let limit = settings.maxSize {
                _ = try await Evictor(store: store, limit: limit).run()
            }
        } catch {
            logger.error("store maintenance failed", metadata: ["error": "\(error)"])
        }
    }
}
