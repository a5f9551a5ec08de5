import HoardDigest

public enum ShardIndexError: Error, Sendable, Equatable, CustomStringConvertible {
    case zstd(ZstdError)
    case msgpack(MessagePackError)
    case notAMap
    case missingShards
    case invalidShardHash(name: String)

    public var description: String {
        switch self {
        case .zstd(let e): return "shard data: \(e)"
        case .msgpack(let e): return "shard data: \(e)"
        case .notAMap: return "shard data is not a msgpack map"
        case .missingShards: return "shard index has no \"shards\" map"
        case .invalidShardHash(let n): return "shard index entry \(n.debugDescription) is not a 32-byte sha256"
        }
    }
}

/// A CEP-16 shard index, `repodata_shards.msgpack.zst`:
/// zstd(msgpack({version, info: {base_url, shards_base_url, created_at, subdir, ...}, shards: {name: bin(32)}})).
public struct ShardIndex: Sendable, Hashable {
    /// The whole decoded document, order preserved; `rewritten()` edits only `info`.
    public let document: MessagePackValue
    /// Package name → shard sha256, lowercase hex.
    public let shards: [String: String]
    public let baseURL: String?
    public let shardsBaseURL: String?

    /// What an absolute `base_url` becomes. CEP-16 resolves `base_url` against the index URL
    /// (`.../<subdir>/repodata_shards.msgpack.zst`); by RFC 3986 `./` resolves to `.../<subdir>/`,
    /// where packages live, under both URL-join and join-then-append-filename clients. `""`
    /// (conda-oci-mirror's choice) resolves to the index URL itself and only works with clients
    /// that URL-join the filename, so `./` is the safer value.
    public static let localBaseURL = "./"
    /// What every `shards_base_url` is served as: `.../<subdir>/shards/`, where hoard serves
    /// shards whatever the upstream layout (conda-index's `""`, beside the index; rattler-index's
    /// `./shards/`; `../elsewhere/`; another host). A relative value can point outside the
    /// subdir, so only this one value is left as it is.
    public static let localShardsBaseURL = "./shards/"
    /// Default decompression cap; conda-forge's largest indexes are a few MB.
    public static let defaultMaxDecompressedSize = 256 << 20

    public init(compressed: UnsafeRawBufferPointer, maxDecompressedSize: Int = defaultMaxDecompressedSize) throws(ShardIndexError) {
        let raw: [UInt8]
        do { raw = try Zstd.decompress(compressed, maxOutput: maxDecompressedSize) } catch { throw .zstd(error) }
        try self.init(msgpack: raw)
    }

    public init(compressed: [UInt8], maxDecompressedSize: Int = defaultMaxDecompressedSize) throws(ShardIndexError) {
        try self = withTypedError(ShardIndexError.self) {
            try compressed.withUnsafeBytes { try ShardIndex(compressed: $0, maxDecompressedSize: maxDecompressedSize) }
        }
    }

    public init(msgpack: [UInt8]) throws(ShardIndexError) {
        let value: MessagePackValue
        do { value = try MessagePack.decode(msgpack) } catch { throw .msgpack(error) }
        try self.init(document: value)
    }

    public init(document: MessagePackValue) throws(ShardIndexError) {
        guard case .map = document else { throw .notAMap }
        guard let shardPairs = document["shards"]?.mapValue else { throw .missingShards }
        var shards: [String: String] = [:]
        shards.reserveCapacity(shardPairs.count)
        for pair in shardPairs {
            guard let name = pair.key.stringValue else { continue }
            guard let digest = Shard.digest(from: pair.value) else { throw .invalidShardHash(name: name) }
            shards[name] = digest.hex
        }
        self.document = document
        self.shards = shards
        baseURL = document["info"]?["base_url"]?.stringValue
        shardsBaseURL = document["info"]?["shards_base_url"]?.stringValue
    }

    /// The index as this server should serve it: absolute `base_url` → `./`, any
    /// `shards_base_url` other than `./shards/` → `./shards/`, everything else (order included)
    /// preserved. Hash arrays of ints written by old producers are passed through unchanged.
    public func rewritten() -> RewrittenShardIndex {
        var upstreamBase: String?
        var upstreamShards: String?
        guard case .map(var top) = document else { preconditionFailure("validated in init") }
        if let infoIndex = top.firstIndex(where: { $0.key.stringValue == "info" }), case .map(var info) = top[infoIndex].value {
            for k in info.indices {
                guard let key = info[k].key.stringValue, let value = info[k].value.stringValue else { continue }
                if key == "base_url", RepodataRewrite.isAbsoluteURL(value) {
                    upstreamBase = value
                    info[k].value = .string(Self.localBaseURL)
                } else if key == "shards_base_url", value != Self.localShardsBaseURL {
                    upstreamShards = value
                    info[k].value = .string(Self.localShardsBaseURL)
                }
            }
            top[infoIndex].value = .map(info)
        }
        return RewrittenShardIndex(
            msgpack: MessagePack.encode(.map(top)),
            changed: upstreamBase != nil || upstreamShards != nil,
            upstreamBaseURL: upstreamBase, upstreamShardsBaseURL: upstreamShards)
    }
}

public struct RewrittenShardIndex: Sendable, Hashable {
    /// Uncompressed msgpack; compress with `Zstd.compress` (or serve the upstream bytes
    /// untouched when `changed` is false).
    public var msgpack: [UInt8]
    public var changed: Bool
    /// Upstream values that were replaced: an absolute `base_url`, a `shards_base_url` other
    /// than `./shards/`. Relative ones still need resolving against the index URL.
    public var upstreamBaseURL: String?
    public var upstreamShardsBaseURL: String?

    public func compressed(level: Int32 = 12) throws(ZstdError) -> [UInt8] {
        try Zstd.compress(msgpack, level: level)
    }
}

/// One CEP-16 shard: zstd(msgpack({packages, packages.conda, removed})), hashes as bytes.
public enum Shard {
    /// Default cap; conda uses 16 MiB for shards without a size header, shards are KBs.
    public static let defaultMaxDecompressedSize = 64 << 20

    public static func records(from compressed: UnsafeRawBufferPointer, maxDecompressedSize: Int = defaultMaxDecompressedSize) throws(ShardIndexError) -> [String: PackageDigest] {
        let raw: [UInt8]
        do { raw = try Zstd.decompress(compressed, maxOutput: maxDecompressedSize) } catch { throw .zstd(error) }
        let value: MessagePackValue
        do { value = try MessagePack.decode(raw) } catch { throw .msgpack(error) }
        return try records(document: value)
    }

    public static func records(from compressed: [UInt8], maxDecompressedSize: Int = defaultMaxDecompressedSize) throws(ShardIndexError) -> [String: PackageDigest] {
        try withTypedError(ShardIndexError.self) {
            try compressed.withUnsafeBytes { try records(from: $0, maxDecompressedSize: maxDecompressedSize) }
        }
    }

    public static func records(document: MessagePackValue) throws(ShardIndexError) -> [String: PackageDigest] {
        guard case .map = document else { throw .notAMap }
        var out: [String: PackageDigest] = [:]
        for section in ["packages", "packages.conda"] {
            guard let entries = document[section]?.mapValue else { continue }
            for entry in entries {
                guard let filename = entry.key.stringValue else { continue }
                out[filename] = PackageDigest(
                    sha256: entry.value["sha256"].flatMap(digest(from:)),
                    size: entry.value["size"]?.unsignedValue)
            }
        }
        return out
    }

    /// A sha256 as msgpack bin(32), as an array of 32 small ints (older rattler-index), or as a
    /// 64-digit hex string (shards converted from JSON).
    static func digest(from value: MessagePackValue) -> BlobDigest? {
        switch value {
        case .binary(let b): return BlobDigest(bytes: b)
        case .string(let s): return BlobDigest(hex: s)
        case .array(let a):
            var bytes: [UInt8] = []
            bytes.reserveCapacity(32)
            for v in a {
                guard let n = v.unsignedValue, n <= 0xFF else { return nil }
                bytes.append(UInt8(n))
            }
            return BlobDigest(bytes: bytes)
        default: return nil
        }
    }
}
