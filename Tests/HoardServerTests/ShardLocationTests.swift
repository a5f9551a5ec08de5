import Testing
@testable import HoardServer

/// Where hoard fetches shards from: `shards_base_url` resolved against the upstream index URL as
/// CEP-16 says, read as a directory as rattler and conda read it.
@Suite struct ShardLocationTests {
    static let index = "http://127.0.0.1:8001/channel/linux-64/repodata_shards.msgpack.zst"

    @Test(arguments: [
        ("", "http://127.0.0.1:8001/channel/linux-64/"),                      // conda-index: beside the index
        ("./shards/", "http://127.0.0.1:8001/channel/linux-64/shards/"),      // rattler-index
        ("shards", "http://127.0.0.1:8001/channel/linux-64/shards/"),         // no trailing slash: a directory all the same
        ("./", "http://127.0.0.1:8001/channel/linux-64/"),
        ("../elsewhere/", "http://127.0.0.1:8001/channel/elsewhere/"),
        ("/other/root/", "http://127.0.0.1:8001/other/root/"),
        ("http://127.0.0.1:8001/channel/linux-64/shards/", "http://127.0.0.1:8001/channel/linux-64/shards/"),
        ("http://127.0.0.2:9000/mirror/linux-64", "http://127.0.0.2:9000/mirror/linux-64/"),  // another host
        ("//127.0.0.2:9000/s/", "http://127.0.0.2:9000/s/"),                   // network-path reference
    ])
    func resolves(shardsBaseURL: String, expected: String) {
        #expect(ShardLocation.directory(shardsBaseURL: shardsBaseURL, indexURL: Self.index) == expected)
    }

    @Test func missingKeyIsBesideTheIndex() {
        #expect(ShardLocation.directory(shardsBaseURL: nil, indexURL: Self.index) == "http://127.0.0.1:8001/channel/linux-64/")
    }

    @Test(arguments: ["file:///etc/", "s3://bucket/shards/", "ftp://127.0.0.1/x/"])
    func refusesWhatHoardCannotFetch(shardsBaseURL: String) {
        #expect(ShardLocation.directory(shardsBaseURL: shardsBaseURL, indexURL: Self.index) == nil)
    }

    @Test func shardURL() {
        let hex = String(repeating: "ab", count: 32)
        #expect(ShardLocation.shardURL(directory: "http://h/c/linux-64/", hex: hex) == "http://h/c/linux-64/\(hex).msgpack.zst")
        // A row written by an older hoard may hold an absolute value without the slash.
        #expect(ShardLocation.shardURL(directory: "http://h/s/linux-64", hex: hex) == "http://h/s/linux-64/\(hex).msgpack.zst")
    }
}
