import HoardDigest
import HoardStore
import Testing

@testable import HoardCondaOCI

/// An export must not carry upstream credentials to wherever the archive goes.
@Suite struct ExportSecretTests {
    static func row(url: String?, base: String?) -> RepodataRow {
        RepodataRow(
            channel: "priv", label: "", subdir: "noarch", name: "repodata.json",
            digest: BlobDigest(canonical: String(repeating: "a", count: 64))!, servedDigest: nil, zstDigest: nil,
            upstreamURL: url, upstreamBaseURL: base, upstreamShardsBaseURL: base.map { $0 + "shards/" },
            fetchedAt: 1, validatedAt: 1)
    }

    @Test func upstreamURLsWithCredentialsAreLeftOut() {
        let token = StoreIndexDocument.Document(Self.row(
            url: "https://conda.example.org/t/sekrit-123/priv/noarch/repodata.json",
            base: "https://conda.example.org/t/sekrit-123/priv/noarch/"))
        #expect(token.upstream_url == nil)
        #expect(token.upstream_base_url == nil)
        #expect(token.upstream_shards_base_url == nil)
        let userinfo = StoreIndexDocument.Document(Self.row(url: "https://alice:pw@conda.example.org/priv/noarch/repodata.json", base: nil))
        #expect(userinfo.upstream_url == nil)
    }

    @Test func plainUpstreamURLsAreKept() {
        let plain = StoreIndexDocument.Document(Self.row(
            url: "https://conda.example.org/pub/noarch/repodata.json", base: "https://conda.example.org/pub/noarch/"))
        #expect(plain.upstream_url == "https://conda.example.org/pub/noarch/repodata.json")
        #expect(plain.upstream_base_url == "https://conda.example.org/pub/noarch/")
        #expect(plain.upstream_shards_base_url == "https://conda.example.org/pub/noarch/shards/")
    }
}
