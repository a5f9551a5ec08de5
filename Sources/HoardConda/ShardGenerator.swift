import HoardDigest

/// Makes CEP-16 sharded repodata from a repodata.json, as rattler-index writes it: one shard per
/// package name, zstd(msgpack({packages, packages.conda, removed})) with `sha256`/`md5` as bytes
/// and null fields left out; an index zstd(msgpack({version, info, shards: {name: bin(32)}})).
public enum ShardGenerator {
    /// One package name's records, in document order (indices into `layout.records`).
    public struct Group: Sendable {
        public var name: String
        public var records: [Int]
    }

    /// The records of `layout` by package name (from the file name, as clients look them up),
    /// names in sorted order. A record whose key is not a conda file name is left out.
    public static func groups(_ layout: RepodataLayout) -> [Group] {
        var byName: [String: [Int]] = [:]
        for (index, record) in layout.records.enumerated() {
            guard let filename = try? CondaFilename(record.filename) else { continue }
            byName[filename.name, default: []].append(index)
        }
        return byName.keys.sorted().map { Group(name: $0, records: byName[$0] ?? []) }
    }

    /// The uncompressed msgpack of one shard. A record listed twice keeps its last value, as a
    /// JSON parser reading the document would. BLOCKING (CPU): call it on a worker pool.
    public static func shard(_ group: Group, layout: RepodataLayout, document: UnsafeRawBufferPointer) throws(RepodataScanError) -> [UInt8] {
        var sections: [RepodataLayout.Section: [MessagePackPair]] = [:]
        var positions: [RepodataLayout.Section: [String: Int]] = [:]
        for index in group.records {
            let record = layout.records[index]
            let value = shardRecord(try JSONMessagePack.decode(UnsafeRawBufferPointer(rebasing: document[record.value])))
            if let at = positions[record.section]?[record.filename] {
                sections[record.section]?[at].value = value
            } else {
                positions[record.section, default: [:]][record.filename] = sections[record.section, default: []].count
                sections[record.section, default: []].append(MessagePackPair(.string(record.filename), value))
            }
        }
        return MessagePack.encode(.map([
            MessagePackPair(.string("packages"), .map(sections[.packages] ?? [])),
            MessagePackPair(.string("packages.conda"), .map(sections[.packagesConda] ?? [])),
            MessagePackPair(.string("removed"), .array([])),
        ]))
    }

    /// A record as a shard holds it: digests as bytes (CEP-16), nulls dropped (what rattler-index
    /// writes; every client reads an absent key as null). A digest that is not hex stays a string.
    public static func shardRecord(_ record: MessagePackValue) -> MessagePackValue {
        guard case .map(let pairs) = record else { return record }
        var out: [MessagePackPair] = []
        out.reserveCapacity(pairs.count)
        for pair in pairs {
            if case .nil = pair.value { continue }
            if let key = pair.key.stringValue, key == "sha256" || key == "md5", let hex = pair.value.stringValue,
               let bytes = hexBytes(hex, count: key == "sha256" ? 32 : 16) {
                out.append(MessagePackPair(pair.key, .binary(bytes)))
            } else {
                out.append(pair)
            }
        }
        return .map(out)
    }

    /// The uncompressed msgpack of a shard index naming `shards` (name → sha256 of the
    /// compressed shard). `base_url` is `./` (packages beside the index), `shards_base_url`
    /// `./shards/` (where hoard serves shards). `createdAt` is RFC 3339.
    public static func index(subdir: String, createdAt: String, shards: [(name: String, digest: BlobDigest)]) -> [UInt8] {
        MessagePack.encode(.map([
            MessagePackPair(.string("version"), .uint(1)),
            MessagePackPair(.string("info"), .map([
                MessagePackPair(.string("base_url"), .string(ShardIndex.localBaseURL)),
                MessagePackPair(.string("shards_base_url"), .string(ShardIndex.localShardsBaseURL)),
                MessagePackPair(.string("created_at"), .string(createdAt)),
                MessagePackPair(.string("subdir"), .string(subdir)),
            ])),
            MessagePackPair(.string("shards"), .map(shards.map { MessagePackPair(.string($0.name), .binary($0.digest.bytes)) })),
        ]))
    }

    static func hexBytes(_ hex: String, count: Int) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count == count * 2 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(count)
        var k = 0
        while k < utf8.count {
            guard let high = ASCII.hexValue(utf8[k]), let low = ASCII.hexValue(utf8[k + 1]) else { return nil }
            out.append(high << 4 | low)
            k += 2
        }
        return out
    }
}
