import Foundation

/// The names several nodes share, kept as small JSON objects under `index/` in the shared objects
/// (the bucket): the truth when a store has them. `StoreIndex` writes through to it (shared
/// object first, then the local row) and reads through it (a local miss, or a name that can move,
/// such as an OCI tag, is looked up here and cached in the local SQLite).
///
/// Keys: `index/<kind>/<components…>`, each component encoded by `SharedKey.component`. The
/// layout is documented in cache-layout.md ("The bucket").
public struct SharedIndex: Sendable {
    public let objects: any SharedObjects

    public init(objects: any SharedObjects) {
        self.objects = objects
    }

    /// `index/<kind>/<components…>`.
    public static func key(_ kind: String, _ components: [String]) -> SharedKey {
        SharedKey(path: "index/" + kind).appendingComponents(components)
    }

    /// Reads and decodes one record; nil when absent. A record that does not decode is reported,
    /// never trusted.
    public func read<T: Decodable>(_ type: T.Type, at key: SharedKey) async throws(StoreError) -> (value: T, version: String)? {
        guard let object = try await objects.get(key) else { return nil }
        do {
            return (try JSONDecoder().decode(T.self, from: Data(object.bytes)), object.version)
        } catch {
            throw .index("shared record \(key) is not valid: \(error)")
        }
    }

    /// Encodes and writes one record when `condition` holds; returns the new version, nil when
    /// the condition failed.
    @discardableResult
    public func write<T: Encodable>(_ value: T, at key: SharedKey, when condition: SharedWriteCondition = .always) async throws(StoreError) -> String? {
        let bytes: [UInt8]
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            bytes = Array(try encoder.encode(value))
        } catch {
            throw .index("cannot encode shared record \(key): \(error)")
        }
        return try await objects.put(key, bytes, when: condition)
    }
}

extension SharedKey {
    /// This key with raw components appended (each encoded).
    public func appendingComponents(_ components: [String]) -> SharedKey {
        components.isEmpty ? self : SharedKey(path: path + "/" + SharedKey(components).path)
    }
}
