import HoardHTTP
import HoardUpstream
import Logging

/// Where every answered request ends up, from Hummingbird (`AccessLogMiddleware`) and from the
/// fast path alike: counted in the metrics, and one access-log line (label `hoard.access`, level
/// info) when the log level lets info through and the access log is on.
struct RequestLog: Sendable {
    let metrics: HoardMetrics
    /// nil: no access log (metrics only).
    let logger: Logger?

    init(metrics: HoardMetrics, logger: Logger?) {
        self.metrics = metrics
        self.logger = logger
    }

    /// Whether a line would be written (checked before gathering what it says).
    var logs: Bool { logger.map { $0.logLevel <= .info } ?? false }

    func finished(
        method: String, path: String, status: Int, bytes: Int, seconds: Double,
        outcome: CacheOutcome, upstreamSeconds: Double?, fastPath: Bool
    ) {
        metrics.answered(RouteLabel.classify(path), status: status, bytes: bytes, outcome: outcome)
        guard let logger, logger.logLevel <= .info else { return }
        var metadata: Logger.Metadata = [
            "method": "\(method)",
            "path": "\(Self.redacted(path))",
            "status": .stringConvertible(status),
            "bytes": .stringConvertible(bytes),
            "duration_ms": .stringConvertible(Self.milliseconds(seconds)),
            "cache": "\(outcome.label)",
            "via": fastPath ? "fast" : "app",
        ]
        if let upstreamSeconds { metadata["upstream_ms"] = .stringConvertible(Self.milliseconds(upstreamSeconds)) }
        logger.info("request", metadata: metadata)
    }

    /// Milliseconds with microsecond precision.
    static func milliseconds(_ seconds: Double) -> Double {
        (seconds * 1_000_000).rounded() / 1000
    }

    /// The path as logged: a `/t/<token>/` segment anywhere, or userinfo with a password (a
    /// credential in the URL), is not written out.
    static func redacted(_ path: String) -> String {
        SecretRedaction.redact(path)
    }
}
