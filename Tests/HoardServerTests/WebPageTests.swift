import HoardConda
import HoardDigest
@testable import HoardServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The web page's parts that need no server: the listing's grouping, search and paging, the
/// query string, the number formats, and the templates' escaping.
@Suite struct WebPageTests {
    static func digest(_ n: Int) -> PackageDigest {
        let hex = String(repeating: String(n % 10), count: 64)
        return PackageDigest(sha256: try? BlobDigest(parsing: hex), size: UInt64(n * 1000), timestamp: UInt64(n))
    }

    /// numpy (3 files), numpy-base (1), py-numpy-x (1), python (2), _libgcc_mutex (1), and a
    /// filename that is not a conda name (listed under itself).
    static let records: [String: PackageDigest] = [
        "numpy-2.0.0-py312h1_0.conda": digest(3),
        "numpy-1.26.4-py312h1_0.conda": digest(2),
        "numpy-1.26.4-py311h1_0.tar.bz2": digest(1),
        "numpy-base-1.0-0.conda": digest(4),
        "py-numpy-x-1.0-0.conda": digest(5),
        "python-3.12.1-h1_0.conda": digest(7),
        "python-3.11.0-h1_0.conda": digest(6),
        "_libgcc_mutex-0.1-main.conda": digest(8),
        "oddfile.conda": digest(9),
    ]

    @Test func packageNamesSplitFromTheRight() {
        #expect(PackageListing.packageName(of: "ca-certificates-2024.2.2-hbcca054_0.conda") == "ca-certificates")
        #expect(PackageListing.packageName(of: "numpy-1.26.4-py311h1_0.tar.bz2") == "numpy")
        #expect(PackageListing.packageName(of: "oddfile.conda") == "oddfile.conda")
        #expect(PackageListing.packageName(of: "-1.0-0.conda") == "-1.0-0.conda")
        #expect(PackageListing.packageName(of: "") == "")
    }

    @Test func groupsByNameNewestFirst() {
        let listing = PackageListing(records: Self.records)
        #expect(listing.names == ["_libgcc_mutex", "numpy", "numpy-base", "oddfile.conda", "py-numpy-x", "python"])
        #expect(listing.fileCount == Self.records.count)
        let all = listing.page(matching: "", offset: 0, limit: 100)
        #expect(all.matchingFiles == 9 && all.matchingNames == 6)
        #expect(all.rows.map(\.record.filename) == [
            "_libgcc_mutex-0.1-main.conda",
            "numpy-2.0.0-py312h1_0.conda", "numpy-1.26.4-py312h1_0.conda", "numpy-1.26.4-py311h1_0.tar.bz2",
            "numpy-base-1.0-0.conda", "oddfile.conda", "py-numpy-x-1.0-0.conda",
            "python-3.12.1-h1_0.conda", "python-3.11.0-h1_0.conda",
        ])
        #expect(all.rows[1].record.sha256?.hex == String(repeating: "3", count: 64))
        #expect(all.rows[1].record.size == 3000)
    }

    @Test func searchPutsTheExactNameThenPrefixesThenTheRest() {
        let listing = PackageListing(records: Self.records)
        let page = listing.page(matching: "NumPy", offset: 0, limit: 100)
        #expect(page.rows.map(\.name) == ["numpy", "numpy", "numpy", "numpy-base", "py-numpy-x"])
        #expect(page.matchingNames == 3 && page.matchingFiles == 5)
        #expect(listing.page(matching: "zzz", offset: 0, limit: 10).rows.isEmpty)
        #expect(listing.page(matching: "numpy-base-and-more", offset: 0, limit: 10).matchingFiles == 0)
    }

    @Test func pagesCutThroughGroupsAndCoverEveryFileOnce() {
        let listing = PackageListing(records: Self.records)
        let whole = listing.page(matching: "", offset: 0, limit: 100).rows
        for size in 1...10 {
            var seen: [PackageListing.Page.Row] = []
            var offset = 0
            while true {
                let page = listing.page(matching: "", offset: offset, limit: size)
                #expect(page.matchingFiles == 9)
                if page.rows.isEmpty { break }
                #expect(page.rows.count <= size)
                seen += page.rows
                offset += size
            }
            #expect(seen == whole, "page size \(size)")
        }
        #expect(listing.page(matching: "", offset: 2, limit: 2).rows.map(\.record.filename) == [
            "numpy-1.26.4-py312h1_0.conda", "numpy-1.26.4-py311h1_0.tar.bz2",
        ])
        #expect(listing.page(matching: "", offset: -5, limit: -1).rows.isEmpty)
        #expect(listing.page(matching: "", offset: Int.max, limit: 5).rows.isEmpty)
    }

    @Test func queryStringParsesFormEncodingAndClamps() {
        let q = WebQuery(query: "channel=conda-forge&subdir=linux-64&q=+py%74hon+&page=3&per=20")
        #expect(q.channel == "conda-forge" && q.subdir == "linux-64" && q.search == "python")
        #expect(q.page == 3 && q.perPage == 20 && q.offset == 40)
        #expect(q.href == "/?channel=conda-forge&subdir=linux-64&q=python&page=3&per=20")
        let hostile = WebQuery(query: "page=99999999999999999999999&per=0&q=%ZZ&channel=&label=x%20y")
        #expect(hostile.page == 1 && hostile.perPage == WebQuery.perPageRange.lowerBound)
        #expect(hostile.search == "" && hostile.channel == nil && hostile.label == "x y")
        let big = WebQuery(query: "page=\(Int.max)&per=100000")
        #expect(big.page == WebQuery.maxPage && big.perPage == WebQuery.perPageRange.upperBound)
        #expect(big.offset == (WebQuery.maxPage - 1) * WebQuery.perPageRange.upperBound)
        #expect(WebQuery(query: "page=-4").page == 1)
        #expect(WebQuery(query: nil) == WebQuery())
        #expect(WebQuery().href == "/")
        var search = WebQuery()
        search.search = "a&b=<c>"
        #expect(search.href == "/?q=a%26b%3D%3Cc%3E")
    }

    @Test func numbersForPeople() {
        #expect(WebFormat.count(0) == "0")
        #expect(WebFormat.count(1234567) == "1,234,567")
        #expect(WebFormat.count(-1000) == "-1,000")
        #expect(WebFormat.count(UInt64.max) == "18,446,744,073,709,551,615")
        #expect(WebFormat.bytes(512) == "512 B")
        #expect(WebFormat.bytes(1536) == "1.5 KiB")
        #expect(WebFormat.bytes(3 << 20) == "3.0 MiB")
        #expect(WebFormat.bytes(UInt64.max) == "16.0 EiB")
    }

    /// Whatever a repodata document or a query holds is text on the page: the templates escape it.
    @Test func templatesEscapeEverything() throws {
        let library = try WebTemplates.library()
        var view = PageView(version: "1")
        view.message = "<script>alert('x')</script>"
        var listing = ListingView(channel: "c", label: nil, subdir: "noarch", path: "noarch", search: "\"><b>", hasRepodata: true)
        listing.rows = [PackageRowView(
            name: "<i>n</i>", version: "1&2", build: "b", filename: "f.conda", href: "/c/noarch/f.conda?a=1&b=2",
            size: "1 B", sizeExact: "1", sha256: "", cached: true)]
        view.listing = listing
        let html = try #require(library.render(view, withTemplate: "page"))
        #expect(!html.contains("<script>") && !html.contains("<i>n") && !html.contains("\"><b>"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        #expect(html.contains("&lt;i&gt;n&lt;/i&gt;") && html.contains("1&amp;2") && html.contains("&quot;&gt;&lt;b&gt;"))
        #expect(html.contains("href=\"/c/noarch/f.conda?a=1&amp;b=2\""))
        #expect(html.contains("<span class=\"cached\">cached</span>"))
    }

    /// The overview lists what the OCI front holds: each repository with its tags (at most
    /// `maxTags`, then how many more), a repository without tags saying so.
    @Test func overviewListsOCIRepositoriesAndTags() async throws {
        let server = try OCITestServer()
        defer { server.remove() }
        try await server.run { client, _ in
            let config = try await client.pushBlob("team/app", Array("{}".utf8))
            let manifest = imageManifest(config: config, layers: [])
            for tag in ["v1", "v2"] { #expect(try await client.pushManifest("team/app", tag, manifest).status == .created) }
            _ = try await client.pushBlob("many", Array("{}".utf8))
            for k in 0..<(WebFront.maxTags + 5) {
                #expect(try await client.pushManifest("many", String(format: "t%02d", k), manifest).status == .created)
            }
            _ = try await client.pushBlob("untagged/blobs", Array("{}".utf8))
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .ok && page.headers[.contentType] == "text/html; charset=utf-8")
            let html = String(buffer: page.body)
            #expect(html.contains("<code>team/app</code>"))
            #expect(html.contains("<code class=\"tag\">v1</code> <code class=\"tag\">v2</code>"))
            #expect(html.contains("<code class=\"tag\">t19</code>") && !html.contains("<code class=\"tag\">t20</code>"))
            #expect(html.contains("and 5 more"))
            let untagged = try #require(html.range(of: "<code>untagged/blobs</code>"))
            #expect(html[untagged.upperBound...].prefix(200).contains("no tags"))
            #expect(html.contains("<th>Blobs</th>"))
        }
    }
}
