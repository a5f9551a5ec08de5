import CoreMetrics
import HoardStore
import HoardUpstream
import Prometheus
import Synchronization

/// hoard's metrics, served at `/metrics` in Prometheus text format: swift-metrics handles backed
/// by swift-prometheus, in a registry of this server's own (no process-wide bootstrap, so tests
/// may run several servers in one process). Every name starts with `hoard_`.
///
/// Counting is lock-free (atomic increments): the request counters of the common statuses are
/// made up front, so the fast path never takes a lock to count; gauges of the store are read when
/// `/metrics` is scraped.
public final class HoardMetrics: Sendable, UpstreamObserver {
    let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let requests: RequestCounters
    private let hits: [CoreMetrics.Counter]
    private let misses: [CoreMetrics.Counter]
    private let servedBytes: [CoreMetrics.Counter]
    private let coalesced: CoreMetrics.Counter
    private let fetchedBytes: CoreMetrics.Counter
    private let upstreamLatency: CoreMetrics.Timer
    private let upstreamErrors = Mutex<[String: CoreMetrics.Counter]>([:])
    private let upstreamStatuses = Mutex<[Int: CoreMetrics.Counter]>([:])
    private let evictedBlobs: CoreMetrics.Counter
    private let evictedBytes: CoreMetrics.Counter
    private let evictionRuns: CoreMetrics.Counter
    private let storeBytes: CoreMetrics.Gauge
    private let storeBlobs: CoreMetrics.Gauge
    private let uploadSessions: CoreMetrics.Gauge
    private let uploadBytes: CoreMetrics.Gauge

    /// The fronts that label hits, misses and bytes served, in a fixed order (`frontIndex`).
    static let fronts = ["conda", "oci", "plain"]

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Upstream answers take from milliseconds to a minute.
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        self.factory = factory
        requests = RequestCounters(factory: factory)
        hits = Self.fronts.map { CoreMetrics.Counter(label: "hoard_cache_hits_total", dimensions: [("front", $0)], factory: factory) }
        misses = Self.fronts.map { CoreMetrics.Counter(label: "hoard_cache_misses_total", dimensions: [("front", $0)], factory: factory) }
        servedBytes = Self.fronts.map { CoreMetrics.Counter(label: "hoard_served_bytes_total", dimensions: [("front", $0)], factory: factory) }
        coalesced = CoreMetrics.Counter(label: "hoard_coalesced_waits_total", factory: factory)
        fetchedBytes = CoreMetrics.Counter(label: "hoard_upstream_fetched_bytes_total", factory: factory)
        upstreamLatency = CoreMetrics.Timer(label: "hoard_upstream_request_duration_seconds", factory: factory)
        evictedBlobs = CoreMetrics.Counter(label: "hoard_evicted_blobs_total", factory: factory)
        evictedBytes = CoreMetrics.Counter(label: "hoard_evicted_bytes_total", factory: factory)
        evictionRuns = CoreMetrics.Counter(label: "hoard_eviction_runs_total", factory: factory)
        storeBytes = CoreMetrics.Gauge(label: "hoard_store_bytes", factory: factory)
        storeBlobs = CoreMetrics.Gauge(label: "hoard_store_blobs", factory: factory)
        uploadSessions = CoreMetrics.Gauge(label: "hoard_upload_sessions", factory: factory)
        uploadBytes = CoreMetrics.Gauge(label: "hoard_upload_session_bytes", factory: factory)
    }

    private static func frontIndex(_ front: String) -> Int {
        switch front {
        case "conda": 0
        case "oci": 1
        default: 2
        }
    }

    // MARK: Requests

    /// Counts one answered request (either path: Hummingbird's or the fast path).
    func answered(_ route: RouteLabel, status: Int, bytes: Int, outcome: CacheOutcome) {
        requests.counter(route, status: status).increment()
        let front = Self.frontIndex(route.front)
        if bytes > 0 { servedBytes[front].increment(by: bytes) }
        switch outcome {
        case .hit: hits[front].increment()
        case .miss: misses[front].increment()
        case .coalesced: misses[front].increment()  // counted once more in hoard_coalesced_waits_total
        case .none: break
        }
    }

    // MARK: Upstreams (UpstreamObserver)

    public func upstreamAnswered(nanoseconds: Int64, status: Int) {
        upstreamLatency.recordNanoseconds(nanoseconds)
        // Upstream statuses are what upstreams send: bounded to 100...599 and kept per code.
        let code = (100...599).contains(status) ? status : 0
        let counter = upstreamStatuses.withLock { counters in
            if let counter = counters[code] { return counter }
            let counter = CoreMetrics.Counter(label: "hoard_upstream_responses_total", dimensions: [("status", String(code))], factory: factory)
            counters[code] = counter
            return counter
        }
        counter.increment()
    }

    public func upstreamFailed(_ error: UpstreamError) {
        let kind: String
        switch error {
        case .unreachable: kind = "unreachable"
        case .timedOut: kind = "timeout"
        case .status: kind = "status"
        case .truncated: kind = "truncated"
        case .integrity: kind = "integrity"
        case .tooLarge, .documentTooLarge: kind = "too_large"
        case .transfer: kind = "transfer"
        case .denied, .unauthorized: kind = "denied"
        case .busy: kind = "busy"
        }
        let counter = upstreamErrors.withLock { counters in
            if let counter = counters[kind] { return counter }
            let counter = CoreMetrics.Counter(label: "hoard_upstream_errors_total", dimensions: [("kind", kind)], factory: factory)
            counters[kind] = counter
            return counter
        }
        counter.increment()
    }

    public func upstreamReceived(bytes: Int) {
        fetchedBytes.increment(by: bytes)
    }

    public func coalescedWait() {
        coalesced.increment()
    }

    // MARK: Store

    /// Records one eviction pass.
    func evicted(_ report: EvictionReport) {
        evictionRuns.increment()
        evictedBlobs.increment(by: report.removedBlobs)
        if let bytes = Int(exactly: report.removedBytes) { evictedBytes.increment(by: bytes) }
    }

    /// Reads what the store holds and the open upload sessions into the gauges, then renders
    /// every metric as Prometheus text.
    func render(store: Store, uploads: UploadSessions?) async -> [UInt8] {
        if let (count, bytes) = try? await store.totals() {
            storeBlobs.record(count)
            storeBytes.record(bytes)
        }
        if let uploads {
            let (count, bytes) = await uploads.usage()
            uploadSessions.record(count)
            uploadBytes.record(bytes)
        }
        return registry.emitToBuffer()
    }
}

/// `hoard_requests_total{front,route,status}`: for the statuses hoard answers most, one counter
/// per route made up front and found by index (no lock, no hashing); others (rare) through a
/// locked table.
final class RequestCounters: Sendable {
    static let common = [200, 206, 304, 404]
    private let table: [CoreMetrics.Counter]
    private let others = Mutex<[Int: CoreMetrics.Counter]>([:])
    private let factory: PrometheusMetricsFactory

    init(factory: PrometheusMetricsFactory) {
        self.factory = factory
        var table: [CoreMetrics.Counter] = []
        for route in RouteLabel.allCases {
            for status in Self.common { table.append(Self.make(route, status, factory)) }
        }
        self.table = table
    }

    private static func make(_ route: RouteLabel, _ status: Int, _ factory: PrometheusMetricsFactory) -> CoreMetrics.Counter {
        CoreMetrics.Counter(
            label: "hoard_requests_total",
            dimensions: [("front", route.front), ("route", route.route), ("status", String(status))], factory: factory)
    }

    func counter(_ route: RouteLabel, status: Int) -> CoreMetrics.Counter {
        if let slot = Self.common.firstIndex(of: status) { return table[route.rawValue * Self.common.count + slot] }
        let status = (100...599).contains(status) ? status : 0
        let key = route.rawValue * 1000 + status
        return others.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Self.make(route, status, factory)
            counters[key] = counter
            return counter
        }
    }
}
