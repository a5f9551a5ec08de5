import HoardUpstream
import ServiceLifecycle

/// Lets pull-through fills finish their commit when the server stops. Listed before the HTTP
/// server among the application's services, it is told to stop only after the server drained its
/// requests (a service group stops its services in reverse order); a client that received a
/// whole package then finds it in the store after a restart.
struct FillDrain: Service {
    let fetcher: Fetcher

    func run() async throws {
        try? await gracefulShutdown()
        await fetcher.finish()
    }
}
