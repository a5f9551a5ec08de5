import Synchronization

/// Whether a request's bytes came from the store, or had to be fetched.
public enum CacheOutcome: UInt8, Sendable {
    case none = 0
    /// From the store (or memory), no upstream contact for these bytes.
    case hit = 1
    /// Joined a download another request had started (single flight).
    case coalesced = 2
    /// Fetched from upstream for this request.
    case miss = 3

    public var label: String {
        switch self {
        case .none: "-"
        case .hit: "hit"
        case .coalesced: "coalesced"
        case .miss: "miss"
        }
    }
}

/// What the code serving one request noted for its access-log line and metrics: hit or miss,
/// and time spent waiting on upstreams. The access-log middleware binds one per request
/// (`RequestNotes.$current`); code outside a request (no binding) notes nothing.
public final class RequestNotes: Sendable {
    @TaskLocal public static var current: RequestNotes?

    private let outcome = Atomic<UInt8>(0)
    private let upstreamNanoseconds = Atomic<Int64>(0)
    private let upstreamRequests = Atomic<Int>(0)

    public init() {}

    /// Notes an outcome; the strongest wins (a request that missed once was a miss).
    public func note(_ new: CacheOutcome) {
        var current = outcome.load(ordering: .relaxed)
        while new.rawValue > current {
            let (exchanged, original) = outcome.compareExchange(expected: current, desired: new.rawValue, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }

    /// Adds one upstream exchange's time (to the response head).
    public func addUpstream(nanoseconds: Int64) {
        upstreamNanoseconds.add(max(0, nanoseconds), ordering: .relaxed)
        upstreamRequests.add(1, ordering: .relaxed)
    }

    public var cacheOutcome: CacheOutcome { CacheOutcome(rawValue: outcome.load(ordering: .relaxed)) ?? .none }
    /// Time spent on upstreams, nil when none was contacted.
    public var upstreamSeconds: Double? {
        upstreamRequests.load(ordering: .relaxed) == 0 ? nil : Double(upstreamNanoseconds.load(ordering: .relaxed)) / 1e9
    }
}

/// Receives what upstream traffic does, for metrics (the server's `HoardMetrics`).
public protocol UpstreamObserver: Sendable {
    /// An exchange's head arrived (any status) after `nanoseconds`.
    func upstreamAnswered(nanoseconds: Int64, status: Int)
    /// An exchange failed before a head arrived (timeout, refused, TLS, busy).
    func upstreamFailed(_ error: UpstreamError)
    /// Body bytes received from an upstream.
    func upstreamReceived(bytes: Int)
    /// A request joined a download already running instead of starting one.
    func coalescedWait()
}
