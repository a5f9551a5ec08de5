import Foundation

/// What a kind of shared record (`index/<kind>/…`) means for eviction and garbage collection;
/// the counterpart of the file backend's foreign keys and cascades.
public enum SharedNameRole: Sendable, Equatable {
    /// A name of the blobs it mentions (a conda file, a pulled-through OCI manifest or tag):
    /// they are not garbage, and evicting one removes the name first.
    case name
    /// The current snapshot of a channel document (repodata rows): its blobs are never evicted,
    /// as on one node (packages are checked against it; upstream may be gone).
    case document
    /// Pushed OCI content (manifests, blob links, tags, aliases, referrers): exists nowhere else,
    /// so its blobs are pinned (never evicted) while such a record names them.
    case pinning
    /// Records that mention derived blobs without naming them (conda OCI info layers: an
    /// evicted layer is made again to the same digest): they keep the blobs from garbage
    /// collection, but eviction may take the blobs and leaves the record.
    case reference
    /// Records that name no blob (channel tokens, upstream's "not found" notes).
    case none

    /// The role of records of `kind` (the first key component after `index/`). Unknown kinds
    /// are names: the safe side (never garbage, and removed before their blob).
    public static func of(kind: String) -> SharedNameRole {
        let kind = kind.lowercased()
        if kind.contains("token") || kind.contains("missing") { return .none }
        if kind.contains("conda-oci") || kind.contains("conda_oci") || kind.contains("info") { return .reference }
        if kind.contains("repodata") { return .document }
        if kind.hasPrefix("oci"), !kind.contains("upstream") { return .pinning }
        return .name
    }
}

/// Which blobs the shared index names, and by which records, as of one scan.
public struct SharedNames: Sendable {
    /// The records of role `.name` that mention each blob: removed before the blob is evicted.
    public var names: [BlobDigest: [SharedKey]] = [:]
    /// Blobs current channel documents use (never evicted).
    public var documents: Set<BlobDigest> = []
    /// Blobs pushed OCI content names (never evicted).
    public var pinned: Set<BlobDigest> = []
    /// Every blob some record mentions: none of them is garbage.
    public var referenced: Set<BlobDigest> = []
    /// How many records the scan read.
    public var records = 0
}

/// Reads every record under `index/` and notes which blobs each mentions: a digest in a key
/// component or any string value of the JSON that is a canonical sha256 digest. The records are
/// written by the conda and OCI sides of the shared index; reading digests out of them this way
/// keeps garbage collection right whatever fields they carry.
///
/// A scan lists `index/` (a thousand keys a request) and reads only records that are new or
/// changed since the last scan (same key, size and last-modified time: the digests are
/// remembered), a few at a time, so scanning again before each pass is cheap.
public actor SharedNameScan {
    public static let directory = SharedKey(path: "index/")
    public let objects: any SharedObjects
    /// Records read at once.
    let concurrency: Int
    private var memo: [SharedKey: Memo] = [:]

    private struct Memo: Sendable {
        var lastModified: Date?
        var size: Int64
        var digests: [BlobDigest]
    }

    public init(objects: any SharedObjects, concurrency: Int = 16) {
        self.objects = objects
        self.concurrency = max(1, concurrency)
    }

    public func scan() async throws(StoreError) -> SharedNames {
        let listed = try await objects.list(prefix: Self.directory)
        var fresh: [SharedKey: Memo] = [:]
        var toRead: [SharedObjectSummary] = []
        for summary in listed {
            guard Self.role(of: summary.key) != SharedNameRole.none else { continue }
            if let cached = memo[summary.key], summary.lastModified != nil,
               cached.lastModified == summary.lastModified, cached.size == summary.size {
                fresh[summary.key] = cached
            } else {
                toRead.append(summary)
            }
        }
        for (summary, digests) in try await read(toRead) {
            fresh[summary.key] = Memo(lastModified: summary.lastModified, size: summary.size, digests: digests)
        }
        memo = fresh
        var names = SharedNames()
        names.records = fresh.count
        for (key, entry) in fresh where !entry.digests.isEmpty {
            let role = Self.role(of: key)
            names.referenced.formUnion(entry.digests)
            switch role {
            case .name: for digest in entry.digests { names.names[digest, default: []].append(key) }
            case .document: names.documents.formUnion(entry.digests)
            case .pinning: names.pinned.formUnion(entry.digests)
            case .reference, .none: break
            }
        }
        return names
    }

    /// Whether the record under `key` still mentions `digest` (read now, not from the memo):
    /// checked just before the record is removed, so a name moved to another blob meanwhile stays.
    public func mentions(_ key: SharedKey, _ digest: BlobDigest) async throws(StoreError) -> Bool {
        guard let object = try await objects.get(key) else { return false }
        return Self.digests(key: key, bytes: object.bytes).contains(digest)
    }

    /// The role of the record under `key` (`index/<kind>/…`).
    public static func role(of key: SharedKey) -> SharedNameRole {
        let components = key.path.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard components.count >= 2, components[0] == "index", let kind = SharedKey.decode(components[1]) else { return .name }
        return SharedNameRole.of(kind: kind)
    }

    /// The digests a record mentions: in its key's components and in its JSON string values.
    static func digests(key: SharedKey, bytes: [UInt8]) -> [BlobDigest] {
        var found: Set<BlobDigest> = []
        for component in key.path.split(separator: "/") {
            if let text = SharedKey.decode(component), let digest = BlobDigest(canonical: text) { found.insert(digest) }
        }
        if let json = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) {
            collect(json, into: &found)
        }
        return Array(found)
    }

    private static func collect(_ value: Any, into found: inout Set<BlobDigest>) {
        switch value {
        case let text as String:
            if text.count <= 71, let digest = BlobDigest(canonical: text) { found.insert(digest) }
        case let array as [Any]:
            for element in array { collect(element, into: &found) }
        case let object as [String: Any]:
            for element in object.values { collect(element, into: &found) }
        default:
            break
        }
    }

    /// Reads records `concurrency` at a time; one that vanished meanwhile mentions nothing.
    private func read(_ summaries: [SharedObjectSummary]) async throws(StoreError) -> [(SharedObjectSummary, [BlobDigest])] {
        let objects = self.objects
        var results: [(SharedObjectSummary, [BlobDigest])] = []
        results.reserveCapacity(summaries.count)
        var start = 0
        while start < summaries.count {
            let batch = summaries[start..<min(start + concurrency, summaries.count)]
            start += batch.count
            do {
                try await withThrowingTaskGroup(of: (SharedObjectSummary, [BlobDigest]).self) { group in
                    for summary in batch {
                        group.addTask {
                            guard let object = try await objects.get(summary.key) else { return (summary, []) }
                            return (summary, Self.digests(key: summary.key, bytes: object.bytes))
                        }
                    }
                    for try await result in group { results.append(result) }
                }
            } catch let error as StoreError {
                throw error
            } catch {
                throw .index("cannot read the shared index: \(error)")
            }
        }
        return results
    }
}
