import Foundation
import Synchronization

/// Upkeep of a store whose blobs and names several nodes share: each node publishes its access
/// times; the holder of the maintenance lease alone evicts (with a size limit) and collects
/// garbage (every `gcInterval`). The serve loop calls `tick` every eviction interval and `stop`
/// at shutdown; `hoard gc` takes the lease for one pass.
public final class SharedMaintenance: Sendable {
    public let store: Store
    public let node: NodeIdentity
    public let lease: MaintenanceLease
    public let accesses: SharedAccessTimes
    public let names: SharedNameScan
    /// How often the lease holder collects garbage.
    public let gcInterval: TimeInterval
    private let lastCollection = Mutex<Date?>(nil)

    public init(store: Store, shared: SharedIndex, node: NodeIdentity, leaseDuration: TimeInterval = 300, gcInterval: TimeInterval = 3600) {
        self.store = store
        self.node = node
        lease = MaintenanceLease(objects: shared.objects, node: node, duration: leaseDuration)
        accesses = SharedAccessTimes(objects: shared.objects, node: node, index: store.index)
        names = SharedNameScan(objects: shared.objects)
        self.gcInterval = gcInterval
    }

    /// The upkeep of `store` when it shares its index with other nodes; nil for a single node.
    /// `interval` is how often `tick` runs: the lease outlives several ticks.
    public static func make(for store: Store, interval: Duration) throws(StoreError) -> SharedMaintenance? {
        guard let shared = store.index.shared else { return nil }
        let seconds = Double(interval.components.seconds)
        return SharedMaintenance(store: store, shared: shared, node: try NodeIdentity.load(store.layout), leaseDuration: max(300, 4 * seconds))
    }

    /// What one tick did on this node.
    public struct TickReport: Sendable {
        /// Whether this node holds the maintenance lease.
        public var holder = false
        public var eviction: EvictionReport?
        public var collection: GarbageCollectionReport?
    }

    /// Publishes this node's access times; on the lease holder, evicts down to `limit` (when
    /// given) and collects garbage when it is due.
    public func tick(limit: ByteSize?, release: @escaping @Sendable ([BlobDigest]) -> Void = { _ in }, now: Date = Date()) async throws -> TickReport {
        try await store.flushAccessTimes()
        try await accesses.publish(now: now)
        var report = TickReport()
        let state = try await lease.acquire(now: now)
        guard case .held = state else { return report }
        report.holder = true
        if let limit {
            report.eviction = try await evictor(limit: limit, release: release).run(now: now)
        }
        let due = lastCollection.withLock { last in last.map { now.timeIntervalSince($0) >= gcInterval } ?? true }
        if due {
            report.collection = try await collector().run(now: now)
            lastCollection.withLock { $0 = now }
        }
        return report
    }

    /// Publishes what is left and gives the lease up (the server is stopping).
    public func stop() async {
        do {
            try await store.flushAccessTimes()
            try await accesses.publish()
            try await lease.release()
        } catch {
            store.logger.warning("could not publish access times or release the maintenance lease at shutdown", metadata: ["error": "\(error)"])
        }
    }

    public func evictor(limit: ByteSize, release: @escaping @Sendable ([BlobDigest]) -> Void = { _ in }) -> SharedEvictor {
        let lease = self.lease
        return SharedEvictor(store: store, names: names, accesses: accesses, limit: limit, release: release, stillHeld: { await lease.renew() })
    }

    public func collector(grace: TimeInterval = 3600, uploadExpiry: TimeInterval = 3600) -> SharedGarbageCollector {
        let lease = self.lease
        return SharedGarbageCollector(store: store, names: names, accesses: accesses, grace: grace, uploadExpiry: uploadExpiry, stillHeld: { await lease.renew() })
    }
}
