import Foundation
import Synchronization

/// Shared objects in memory, with the same conditional-write rules as a bucket: for tests of the
/// logic above `SharedObjects` (several `Store`s handed one instance behave as nodes on one bucket).
public final class MemorySharedObjects: SharedObjects {
    private struct Entry { var bytes: [UInt8]; var version: String; var modified: Date }
    private let objects = Mutex<[SharedKey: Entry]>([:])
    private let counter = Atomic<Int>(0)

    public init() {}

    public func get(_ key: SharedKey) async throws(StoreError) -> SharedObject? {
        objects.withLock { $0[key] }.map { SharedObject(bytes: $0.bytes, version: $0.version, lastModified: $0.modified) }
    }

    public func put(_ key: SharedKey, _ bytes: [UInt8], when condition: SharedWriteCondition) async throws(StoreError) -> String? {
        let version = "\"v\(counter.add(1, ordering: .relaxed).newValue)\""
        return objects.withLock { objects -> String? in
            switch condition {
            case .always: break
            case .ifAbsent: if objects[key] != nil { return nil }
            case .ifMatch(let expected): if objects[key]?.version != expected { return nil }
            }
            objects[key] = Entry(bytes: bytes, version: version, modified: Date())
            return version
        }
    }

    public func delete(_ key: SharedKey) async throws(StoreError) {
        _ = objects.withLock { $0.removeValue(forKey: key) }
    }

    public func list(prefix: SharedKey) async throws(StoreError) -> [SharedObjectSummary] {
        objects.withLock { objects in
            objects.filter { $0.key.path.hasPrefix(prefix.path) }
                .map { SharedObjectSummary(key: $0.key, size: Int64($0.value.bytes.count), lastModified: $0.value.modified) }
                .sorted { $0.key < $1.key }
        }
    }
}
