import AsyncAlgorithms
import ServiceLifecycle

/// Removes expired upload sessions at start and then every few minutes while serving.
struct UploadJanitor: Service {
    let uploads: UploadSessions
    let interval: Duration

    func run() async throws {
        await uploads.expire()
        let ticks = AsyncTimerSequence(interval: interval, clock: .suspending).cancelOnGracefulShutdown()
        for await _ in ticks {
            await uploads.expire()
        }
    }
}
