import HoardStore
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The HTTP server: one Hummingbird application answering every front over one store.
public struct HoardServer: Sendable {
    public let settings: ServerSettings
    public let store: Store
    public let logger: Logger

    public init(settings: ServerSettings, store: Store, logger: Logger) {
        self.settings = settings
        self.store = store
        self.logger = logger
    }

    /// Builds the application; `onRunning` receives the bound port (useful with port 0).
    /// Throws when the htpasswd file, the token key or the TLS files cannot be used.
    public func makeApplication(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let logger = self.logger
        let host = settings.host
        let oci = try OCIFront(store: store, settings: settings, logger: logger)
        return Application(
            responder: HoardResponder(store: store, logger: logger, oci: oci),
            server: try TLSSetup.serverBuilder(settings.tls),
            configuration: .init(address: .hostname(host, port: settings.port), serverName: "hoard/\(HoardVersion.string)"),
            services: [
                MaintenanceService(store: store, settings: settings, logger: logger),
                UploadJanitor(uploads: oci.uploads, interval: .seconds(300)),
            ],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.notice("hoard listening", metadata: ["address": "\(host):\(port)", "root": "\(store.layout.root)"])
                await onRunning(port)
            },
            logger: logger
        )
    }

    /// Runs until SIGINT or SIGTERM, then finishes in-flight requests and writes pending state.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await makeApplication(onRunning: onRunning).runService(gracefulShutdownSignals: [.sigterm, .sigint])
        try await store.flushAccessTimes()
        logger.notice("hoard stopped")
    }
}
