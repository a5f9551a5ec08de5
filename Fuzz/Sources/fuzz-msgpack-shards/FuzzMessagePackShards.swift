import CLibFuzzer
#if canImport(Glibc)
import Glibc
#endif
import HoardConda

/// MessagePack, the CEP-16 shard index and shards, raw and zstd-compressed: decoding never
/// traps, and what decodes re-encodes to bytes that decode and re-encode to the same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let array = Array(bytes)
    if let value = try? MessagePack.decode(bytes) {
        // Compared as bytes: a NaN float is never == itself.
        let encoded = MessagePack.encode(value)
        let again = try? MessagePack.decode(encoded)
        precondition(again.map(MessagePack.encode) == encoded, "msgpack round trip changed the value")
        _ = try? ShardIndex(document: value).rewritten()
        _ = try? Shard.records(document: value)
    }
    _ = try? ShardIndex(msgpack: array)
    // Compressed forms, with a small cap so a bomb costs at most 1 MiB here.
    _ = try? ShardIndex(compressed: array, maxDecompressedSize: 1 << 20)
    _ = try? Shard.records(from: array, maxDecompressedSize: 1 << 20)
    return 0
}

@main enum FuzzMain {
    static func main() { exit(hoard_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv)) }
}
