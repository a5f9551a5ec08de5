import Foundation

/// What `access/<node-id>` holds: the last time this node read (or committed) each blob, in unix
/// seconds by lowercase hex digest.
struct AccessTimesRecord: Codable, Sendable {
    var node: String
    var host: String
    var pid: Int32
    var updated: Double
    var times: [String: Int64]
}

/// Access times across the nodes of one bucket. Each node publishes the times its reads left in
/// its own index to its own object, `access/<node-id>` (merged with what it published before,
/// the most recent `maxEntries` kept), so only one node ever writes each object; the maintenance
/// lease holder reads them all, and its least-recently-used order sees every node's reads.
public actor SharedAccessTimes {
    public static let directory = SharedKey(path: "access/")
    /// The most blobs one node's object names: about 85 bytes each in JSON, so a few MB at most.
    /// The least recent fall off; they then look as old as their commit, which is right for LRU.
    public static let maxEntries = 50_000
    /// Times are read again this far back at each publish: a read is written to the index up to
    /// an eviction interval after it happened, with the time it happened.
    static let overlap: Double = 900

    public let objects: any SharedObjects
    public let node: NodeIdentity
    public let index: StoreIndex
    private var published: [String: Int64]?
    private var since: Double = 0
    private var memo: [SharedKey: (lastModified: Date?, size: Int64, times: [String: Int64])] = [:]

    public init(objects: any SharedObjects, node: NodeIdentity, index: StoreIndex) {
        self.objects = objects
        self.node = node
        self.index = index
    }

    public static func key(for node: String) -> SharedKey {
        SharedKey(path: "access").appending(node)
    }

    /// Publishes the access times recorded in this node's index since the last call (the server
    /// flushes its in-memory reads to the index first). Returns how many times moved forward.
    @discardableResult
    public func publish(now: Date = Date()) async throws -> Int {
        let start = now.timeIntervalSince1970
        let fresh = try await index.accessTimes(since: since)
        var times: [String: Int64]
        if let published {
            times = published
        } else {
            // First publish since start: merge with what this node published before it stopped
            // (replaced when it does not decode; an unreachable bucket fails this pass instead).
            times = try await readOwn()
        }
        var changed = 0
        for (digest, time) in fresh {
            guard let seconds = Int64(exactly: time.rounded(.down)) else { continue }
            if seconds > times[digest.hex, default: Int64.min] {
                times[digest.hex] = seconds
                changed += 1
            }
        }
        if changed > 0 || published == nil {
            if times.count > Self.maxEntries {
                let cut = times.sorted { $0.value > $1.value }.prefix(Self.maxEntries)
                times = Dictionary(uniqueKeysWithValues: cut.map { ($0.key, $0.value) })
            }
            let record = AccessTimesRecord(node: node.id, host: node.host, pid: node.pid, updated: start, times: times)
            _ = try await objects.put(Self.key(for: node.id), try Self.encode(record), when: .always)
        }
        published = times
        since = start - Self.overlap
        return changed
    }

    /// The latest access of every blob any node published, with this node's own (as published).
    public func merged() async throws -> [BlobDigest: Double] {
        let listed = try await objects.list(prefix: Self.directory)
        var seen: Set<SharedKey> = []
        var merged: [String: Int64] = published ?? [:]
        let own = Self.key(for: node.id)
        for summary in listed where summary.key != own {
            seen.insert(summary.key)
            let times: [String: Int64]
            if let cached = memo[summary.key], cached.lastModified == summary.lastModified, cached.size == summary.size, summary.lastModified != nil {
                times = cached.times
            } else {
                // One that does not decode is another version's or damaged: it protects nothing.
                times = (try? await read(summary.key))?.times ?? [:]
                memo[summary.key] = (summary.lastModified, summary.size, times)
            }
            merged.merge(times) { max($0, $1) }
        }
        memo = memo.filter { seen.contains($0.key) }
        var result: [BlobDigest: Double] = [:]
        result.reserveCapacity(merged.count)
        for (hex, seconds) in merged {
            if let digest = BlobDigest(canonical: hex) { result[digest] = Double(seconds) }
        }
        return result
    }

    /// Removes the objects of nodes that published nothing for `age` seconds (nodes gone for
    /// good); returns their keys. This node's own object is kept.
    public func removeStale(olderThan age: TimeInterval, now: Date = Date(), dryRun: Bool = false) async throws(StoreError) -> [SharedKey] {
        let own = Self.key(for: node.id)
        let stale = try await objects.list(prefix: Self.directory).filter {
            $0.key != own && ($0.lastModified.map { now.timeIntervalSince($0) > age } ?? false)
        }.map(\.key)
        if !dryRun {
            for key in stale { try await objects.delete(key) }
        }
        return stale
    }

    /// This node's published times; none when its object does not decode.
    private func readOwn() async throws(StoreError) -> [String: Int64] {
        let result: AccessTimesRecord?
        do {
            result = try await read(Self.key(for: node.id))
        } catch {
            if case .index = error { return [:] }
            throw error
        }
        return result?.times ?? [:]
    }

    private func read(_ key: SharedKey) async throws(StoreError) -> AccessTimesRecord? {
        guard let object = try await objects.get(key) else { return nil }
        do {
            return try JSONDecoder().decode(AccessTimesRecord.self, from: Data(object.bytes))
        } catch {
            throw .index("access times \(key) are not valid: \(error)")
        }
    }

    private static func encode(_ record: AccessTimesRecord) throws(StoreError) -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(record))
        } catch {
            throw .index("cannot encode access times: \(error)")
        }
    }
}
