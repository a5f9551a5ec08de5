import Foundation

/// What `leases/maintenance` holds: which node runs eviction and garbage collection, and until
/// when (unix seconds; the holder renews it well before).
public struct MaintenanceLeaseRecord: Sendable, Codable, Equatable {
    public var node: String
    public var host: String
    public var pid: Int32
    public var expires: Double
}

/// The maintenance lease: with several nodes on one bucket, eviction and garbage collection run
/// on one node at a time, the holder of the object `leases/maintenance`.
///
/// It is taken with a conditional create (first writer wins), renewed by its holder and taken
/// over by another node once expired, both with a compare-and-swap on the version read
/// (`ifMatch`), so two nodes never both believe they hold it from the same state. Released by
/// writing an expired record the same way (another node may take it at once). Expiry is wall-clock
/// time: nodes' clocks must agree to well within `duration`.
public actor MaintenanceLease {
    public static let key = SharedKey(path: "leases/maintenance")

    public let objects: any SharedObjects
    public let node: NodeIdentity
    /// How long a taken or renewed lease lasts.
    public let duration: TimeInterval
    /// The version of the record this node wrote last, while it believes it holds the lease.
    private var held: String?

    public init(objects: any SharedObjects, node: NodeIdentity, duration: TimeInterval = 300) {
        self.objects = objects
        self.node = node
        self.duration = duration
    }

    /// The outcome of `acquire`.
    public enum State: Sendable, Equatable {
        /// This node holds the lease until `expires`.
        case held(expires: Double)
        /// Another node does.
        case heldByOther(MaintenanceLeaseRecord)
    }

    /// Takes the lease, renews it when this node holds it already, or takes it over when it has
    /// expired; says who holds it otherwise.
    public func acquire(now: Date = Date()) async throws(StoreError) -> State {
        let now = now.timeIntervalSince1970
        let mine = MaintenanceLeaseRecord(node: node.id, host: node.host, pid: node.pid, expires: now + duration)
        guard let current = try await objects.get(Self.key) else {
            return try await write(mine, when: .ifAbsent)
        }
        // A record that does not decode is no lease anyone holds: replaced like an expired one.
        let record = try? JSONDecoder().decode(MaintenanceLeaseRecord.self, from: Data(current.bytes))
        if let record, record.node != node.id, record.expires > now {
            held = nil
            return .heldByOther(record)
        }
        return try await write(mine, when: .ifMatch(current.version))
    }

    /// Whether this node still holds the lease, renewing it (for long passes, between batches).
    public func renew(now: Date = Date()) async -> Bool {
        guard held != nil else { return false }
        guard case .held = try? await acquire(now: now) else { return false }
        return true
    }

    /// Gives the lease up (when this node holds it): the record is marked expired with a
    /// compare-and-swap, so a node that took it over meanwhile keeps it.
    public func release() async throws(StoreError) {
        guard held != nil else { return }
        held = nil
        guard let current = try await objects.get(Self.key),
              let record = try? JSONDecoder().decode(MaintenanceLeaseRecord.self, from: Data(current.bytes)),
              record.node == node.id else { return }
        var released = record
        released.expires = 0
        _ = try await objects.put(Self.key, try Self.encode(released), when: .ifMatch(current.version))
    }

    /// Whether this node believed it held the lease when it last looked.
    public var isHeld: Bool { held != nil }

    private func write(_ record: MaintenanceLeaseRecord, when condition: SharedWriteCondition) async throws(StoreError) -> State {
        if let version = try await objects.put(Self.key, try Self.encode(record), when: condition) {
            held = version
            return .held(expires: record.expires)
        }
        // Another node wrote between our read and our write: it holds the lease now.
        held = nil
        if let current = try await objects.get(Self.key),
           let other = try? JSONDecoder().decode(MaintenanceLeaseRecord.self, from: Data(current.bytes)) {
            return .heldByOther(other)
        }
        return .heldByOther(MaintenanceLeaseRecord(node: "unknown", host: "unknown", pid: 0, expires: 0))
    }

    private static func encode(_ record: MaintenanceLeaseRecord) throws(StoreError) -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(record))
        } catch {
            throw .index("cannot encode the maintenance lease: \(error)")
        }
    }
}

extension MaintenanceLeaseRecord: CustomStringConvertible {
    public var description: String {
        "\(node) (\(host), pid \(pid)) until \(Date(timeIntervalSince1970: expires))"
    }
}
