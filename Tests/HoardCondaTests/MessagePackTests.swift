import HoardDigest
import Testing
@testable import HoardConda

@Suite struct MessagePackTests {
    static let values: [MessagePackValue] = [
        .nil, .bool(true), .bool(false),
        .uint(0), .uint(127), .uint(128), .uint(255), .uint(256), .uint(65535), .uint(65536), .uint(UInt64(UInt32.max)), .uint(UInt64(UInt32.max) + 1), .uint(.max),
        .int(-1), .int(-32), .int(-33), .int(-128), .int(-129), .int(-32768), .int(-32769), .int(Int64(Int32.min)), .int(Int64(Int32.min) - 1), .int(.min),
        .float(1.5), .double(-2.25e300),
        .string(""), .string("hé"), .string(String(repeating: "x", count: 31)), .string(String(repeating: "y", count: 32)),
        .string(String(repeating: "z", count: 256)), .string(String(repeating: "w", count: 70_000)),
        .binary([]), .binary([1, 2, 3]), .binary([UInt8](repeating: 9, count: 300)), .binary([UInt8](repeating: 7, count: 70_000)),
        .array([]), .array((0..<15).map { .uint(UInt64($0)) }), .array((0..<16).map { .uint(UInt64($0)) }), .array((0..<70_000).map { _ in .nil }),
        .map([]), .map([MessagePackPair(.string("b"), .uint(1)), MessagePackPair(.string("a"), .array([.nil, .bool(true)]))]),
        .map((0..<20).map { MessagePackPair(.uint(UInt64($0)), .string("v\($0)")) }),
        .ext(type: 1, data: [1]), .ext(type: -1, data: [1, 2]), .ext(type: 5, data: [1, 2, 3, 4]), .ext(type: 5, data: [UInt8](repeating: 0, count: 8)),
        .ext(type: 5, data: [UInt8](repeating: 0, count: 16)), .ext(type: 5, data: [1, 2, 3]), .ext(type: 6, data: [UInt8](repeating: 1, count: 300)),
        .ext(type: 6, data: [UInt8](repeating: 1, count: 70_000)),
    ]

    @Test(arguments: values)
    func roundTrip(value: MessagePackValue) throws {
        #expect(try MessagePack.decode(MessagePack.encode(value)) == value)
    }

    @Test func knownEncodings() throws {
        #expect(MessagePack.encode(.uint(1)) == [0x01])
        #expect(MessagePack.encode(.int(-1)) == [0xFF])
        #expect(MessagePack.encode(.int(5)) == [0x05])
        #expect(MessagePack.encode(.uint(256)) == [0xCD, 0x01, 0x00])
        #expect(MessagePack.encode(.string("a")) == [0xA1, 0x61])
        #expect(MessagePack.encode(.binary([0xAB])) == [0xC4, 0x01, 0xAB])
        #expect(MessagePack.encode(.map([MessagePackPair(.string("k"), .nil)])) == [0x81, 0xA1, 0x6B, 0xC0])
        // Wider-than-needed encodings from other writers decode to the same value.
        #expect(try MessagePack.decode([0xD0, 0x05]) == .int(5))
        #expect(try MessagePack.decode([0xCF, 0, 0, 0, 0, 0, 0, 0, 7]) == .uint(7))
        #expect(try MessagePack.decode([0xD9, 0x01, 0x61]) == .string("a"))
        #expect(MessagePackValue.int(5).unsignedValue == MessagePackValue.uint(5).unsignedValue)
    }

    @Test(arguments: [[UInt8](), [0xC1], [0xA2, 0x61], [0x92, 0x01], [0xDD, 0xFF, 0xFF, 0xFF, 0xFF], [0xC4, 0x05, 1], [0xA1, 0xFF], [0x01, 0x02], [0xCB, 0, 0]])
    func invalid(bytes: [UInt8]) {
        #expect(throws: MessagePackError.self) { try MessagePack.decode(bytes) }
    }

    @Test func depthLimit() {
        let deep = [UInt8](repeating: 0x91, count: 10_000) + [0xC0]
        #expect(throws: MessagePackError.self) { try MessagePack.decode(deep) }
    }
}

@Suite struct ShardIndexTests {
    func digestBytes(_ i: UInt8) -> [UInt8] { [UInt8](repeating: i, count: 32) }

    func index(baseURL: String, shardsBaseURL: String, hashesAsArrays: Bool = false) -> MessagePackValue {
        func hash(_ i: UInt8) -> MessagePackValue {
            hashesAsArrays ? .array(digestBytes(i).map { .uint(UInt64($0)) }) : .binary(digestBytes(i))
        }
        return .map([
            MessagePackPair(.string("version"), .uint(1)),
            MessagePackPair(.string("info"), .map([
                MessagePackPair(.string("base_url"), .string(baseURL)),
                MessagePackPair(.string("shards_base_url"), .string(shardsBaseURL)),
                MessagePackPair(.string("created_at"), .string("2026-11-23T12:00:00Z")),
                MessagePackPair(.string("subdir"), .string("linux-64")),
                MessagePackPair(.string("extra"), .array([.uint(1)])),
            ])),
            MessagePackPair(.string("shards"), .map([
                MessagePackPair(.string("python"), hash(1)),
                MessagePackPair(.string("numpy"), hash(2)),
            ])),
        ])
    }

    @Test(arguments: [false, true])
    func decodeAndRewrite(hashesAsArrays: Bool) throws {
        let doc = index(baseURL: "https://conda.anaconda.org/conda-forge/linux-64/", shardsBaseURL: "https://shards.example/linux-64/", hashesAsArrays: hashesAsArrays)
        let compressed = try Zstd.compress(MessagePack.encode(doc))
        let idx = try ShardIndex(compressed: compressed)
        #expect(idx.shards == ["python": String(repeating: "01", count: 32), "numpy": String(repeating: "02", count: 32)])
        #expect(idx.baseURL == "https://conda.anaconda.org/conda-forge/linux-64/")
        #expect(idx.shardsBaseURL == "https://shards.example/linux-64/")

        let r = idx.rewritten()
        #expect(r.changed)
        #expect(r.upstreamBaseURL == "https://conda.anaconda.org/conda-forge/linux-64/")
        #expect(r.upstreamShardsBaseURL == "https://shards.example/linux-64/")
        let again = try ShardIndex(compressed: try r.compressed())
        #expect(again.baseURL == "./")
        #expect(again.shardsBaseURL == "./shards/")
        #expect(again.shards == idx.shards)
        // Everything else, order included, is untouched.
        #expect(again.document == index(baseURL: "./", shardsBaseURL: "./shards/", hashesAsArrays: hashesAsArrays))
    }

    @Test func relativeIndexUnchanged() throws {
        let doc = index(baseURL: "", shardsBaseURL: "./shards/")
        let idx = try ShardIndex(msgpack: MessagePack.encode(doc))
        let r = idx.rewritten()
        #expect(!r.changed)
        #expect(r.msgpack == MessagePack.encode(doc))
    }

    /// Every layout but `./shards/` is served as `./shards/` (where hoard routes shards), and the
    /// upstream value is reported so hoard can fetch from there.
    @Test(arguments: ["", "shards", "./", "../elsewhere/", "//other.example/s/", "https://other.example/s/"])
    func shardsBaseURLServedAsLocal(upstream: String) throws {
        let doc = index(baseURL: "", shardsBaseURL: upstream)
        let r = try ShardIndex(msgpack: MessagePack.encode(doc)).rewritten()
        #expect(r.changed)
        #expect(r.upstreamShardsBaseURL == upstream)
        #expect(r.upstreamBaseURL == nil)
        #expect(try ShardIndex(msgpack: r.msgpack).document == index(baseURL: "", shardsBaseURL: "./shards/"))
    }

    @Test func badIndexes() throws {
        #expect(throws: ShardIndexError.notAMap) { try ShardIndex(msgpack: MessagePack.encode(.array([]))) }
        #expect(throws: ShardIndexError.missingShards) { try ShardIndex(msgpack: MessagePack.encode(.map([]))) }
        let bad = MessagePackValue.map([MessagePackPair(.string("shards"), .map([MessagePackPair(.string("x"), .binary([1, 2]))]))])
        #expect(throws: ShardIndexError.invalidShardHash(name: "x")) { try ShardIndex(msgpack: MessagePack.encode(bad)) }
        #expect(throws: ShardIndexError.self) { try ShardIndex(compressed: Array("garbage".utf8)) }
    }

    @Test func shardRecords() throws {
        func record(_ sha: MessagePackValue?, size: MessagePackValue?) -> MessagePackValue {
            var pairs = [MessagePackPair(.string("name"), .string("python")), MessagePackPair(.string("md5"), .binary([UInt8](repeating: 3, count: 16)))]
            if let sha { pairs.append(MessagePackPair(.string("sha256"), sha)) }
            if let size { pairs.append(MessagePackPair(.string("size"), size)) }
            return .map(pairs)
        }
        let shard = MessagePackValue.map([
            MessagePackPair(.string("packages"), .map([
                MessagePackPair(.string("python-3.12.1-h0_0.tar.bz2"), record(.binary(digestBytes(9)), size: .uint(123))),
            ])),
            MessagePackPair(.string("packages.conda"), .map([
                MessagePackPair(.string("python-3.12.1-h0_0.conda"), record(.string(String(repeating: "0a", count: 32)), size: .uint(1 << 40))),
                MessagePackPair(.string("python-3.12.2-h0_0.conda"), record(nil, size: nil)),
            ])),
            MessagePackPair(.string("removed"), .array([])),
        ])
        let records = try Shard.records(from: Zstd.compress(MessagePack.encode(shard)))
        #expect(records == [
            "python-3.12.1-h0_0.tar.bz2": PackageDigest(sha256: BlobDigest(bytes: digestBytes(9)), size: 123),
            "python-3.12.1-h0_0.conda": PackageDigest(sha256: BlobDigest(bytes: digestBytes(10)), size: 1 << 40),
            "python-3.12.2-h0_0.conda": PackageDigest(),
        ])
    }

    /// Integers from the wire that do not fit the other signedness come back as nil, never a trap:
    /// uint64 2^64-1 as a signed value, int64 -1 as an unsigned one (shard records' sizes).
    @Test func outOfRangeIntegersAreNilNotATrap() throws {
        let huge = try MessagePack.decode([0xCF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(huge == .uint(.max))
        #expect(huge.integerValue == nil)
        #expect(huge.unsignedValue == .max)
        let minusOne = try MessagePack.decode([0xD3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(minusOne.unsignedValue == nil)
        #expect(minusOne.integerValue == -1)
        #expect(MessagePackValue.uint(UInt64(Int64.max)).integerValue == .max)
        #expect(MessagePackValue.uint(UInt64(Int64.max) + 1).integerValue == nil)
        // A length past the input (a 4 GiB string in a 5-byte document) is an error, not a read.
        #expect(throws: MessagePackError.self) { try MessagePack.decode([0xDB, 0xFF, 0xFF, 0xFF, 0xFF]) }
    }
}
