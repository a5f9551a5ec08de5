import HoardStore
import NIOCore

/// The shared objects of several nodes as small objects in the bucket (`PREFIX/<SharedKey.path>`),
/// written with S3's conditional writes (`If-None-Match: *`, `If-Match: ETAG`).
public final class S3SharedObjects: SharedObjects {
    public let client: S3Client
    /// Shared records are small JSON documents; anything larger is not one of ours.
    static let recordLimit = 64 << 20

    public init(client: S3Client) {
        self.client = client
    }

    public func get(_ key: SharedKey) async throws(StoreError) -> SharedObject? {
        do {
            guard let (bytes, info) = try await client.getBytes(key.path, limit: Self.recordLimit) else { return nil }
            return SharedObject(bytes: bytes, version: info.etag, lastModified: info.lastModified)
        } catch {
            throw error.storeError
        }
    }

    public func put(_ key: SharedKey, _ bytes: [UInt8], when condition: SharedWriteCondition) async throws(StoreError) -> String? {
        let s3Condition: S3Condition
        switch condition {
        case .always: s3Condition = .none
        case .ifAbsent: s3Condition = .ifNoneMatchAny
        case .ifMatch(let version): s3Condition = .ifMatch(version)
        }
        do {
            return try await client.put(key.path, body: ByteBuffer(bytes: bytes), contentType: "application/json", condition: s3Condition)
        } catch {
            throw error.storeError
        }
    }

    public func delete(_ key: SharedKey) async throws(StoreError) {
        do {
            try await client.delete(key.path)
        } catch {
            throw error.storeError
        }
    }

    public func list(prefix: SharedKey) async throws(StoreError) -> [SharedObjectSummary] {
        do {
            return try await client.list(prefix: prefix.path).map {
                SharedObjectSummary(key: SharedKey(path: $0.key), size: $0.size, lastModified: $0.lastModified)
            }
        } catch {
            throw error.storeError
        }
    }
}
