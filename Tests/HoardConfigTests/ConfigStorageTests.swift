import Testing
@testable import HoardConfig

/// `[storage]` and `StorageSetting`: an S3 bucket instead of files under the root.
@Suite struct ConfigStorageTests {
    @Test func readsTheStorageTable() throws {
        let config = try HoardConfig.parse("""
            [storage]
            url = "s3://hoard-cache/prod/eu"
            endpoint = "http://127.0.0.1:8333/"
            region = "eu-west-1"
            path_style = true
            redirect = true
            local_cache = "2GiB"
            """, path: "hoard.toml")
        let storage = try #require(config.storage)
        #expect(storage.bucket == "hoard-cache")
        #expect(storage.prefix == "prod/eu")
        #expect(storage.endpoint == "http://127.0.0.1:8333")
        #expect(storage.region == "eu-west-1")
        #expect(storage.pathStyle)
        #expect(storage.redirect)
        #expect(storage.localCache.bytes == 2 << 30)
        #expect(storage.url == "s3://hoard-cache/prod/eu")
    }

    @Test func noTableMeansFilesUnderTheRoot() throws {
        #expect(try HoardConfig.parse("[store]\nroot = \"/srv/hoard\"\n", path: "a.toml").storage == nil)
    }

    @Test func defaultsAreHTTPSUsEast1VirtualHostedNoRedirect() throws {
        let storage = try StorageSetting(url: "s3://bucket", endpoint: "s3.amazonaws.com")
        #expect(storage.endpoint == "https://s3.amazonaws.com")
        #expect(storage.prefix == "")
        #expect(storage.region == "us-east-1")
        #expect(!storage.pathStyle && !storage.redirect)
        #expect(storage.localCache == StorageSetting.defaultLocalCache)
        #expect(try StorageSetting(url: "s3://bucket/p/", endpoint: "https://s3.example.org:9000").prefix == "p")
        #expect(try StorageSetting(url: "s3://bucket/p", endpoint: "https://[::1]:9000").endpoint == "https://[::1]:9000")
    }

    /// Each mistake names the key and says what it must be.
    @Test func refusesUnusableStorageNamingTheKey() {
        let cases: [(String, key: String, says: String)] = [
            ("url = \"gs://bucket/p\"\nendpoint = \"https://x\"", "storage.url", "scheme 'gs' is not known"),
            ("url = \"bucket/p\"\nendpoint = \"https://x\"", "storage.url", "has no scheme"),
            ("url = \"s3://Bucket/p\"\nendpoint = \"https://x\"", "storage.url", "bucket name 'Bucket'"),
            ("url = \"s3://ab\"\nendpoint = \"https://x\"", "storage.url", "3 to 63"),
            ("url = \"s3://bucket/a//b\"\nendpoint = \"https://x\"", "storage.url", "prefix 'a//b'"),
            ("url = \"s3://bucket/a/../b\"\nendpoint = \"https://x\"", "storage.url", "'..'"),
            ("url = \"s3://bucket/a b\"\nendpoint = \"https://x\"", "storage.url", "no spaces"),
            ("url = \"s3://bucket/p\"", "storage.endpoint", "no default endpoint"),
            ("url = \"s3://bucket/p\"\nendpoint = \"ftp://x\"", "storage.endpoint", "'ftp://' is neither"),
            ("url = \"s3://bucket/p\"\nendpoint = \"https://x/path\"", "storage.endpoint", "no path"),
            ("url = \"s3://bucket/p\"\nendpoint = \"https://k:s@x\"", "storage.endpoint", "credentials"),
            ("url = \"s3://bucket/p\"\nendpoint = \"https://x:99999\"", "storage.endpoint", "port"),
            ("url = \"s3://bucket/p\"\nendpoint = \"https://x\"\nregion = \"EU WEST\"", "storage.region", "lowercase"),
            ("endpoint = \"https://x\"", "storage.url", "present"),
            ("url = \"s3://bucket/p\"\nendpoint = \"https://x\"\nbucket = \"b\"", "storage.bucket", "unknown key"),
            ("url = \"s3://bucket/p\"\nendpoint = \"https://x\"\npath_style = \"yes\"", "storage.path_style", "true or false"),
            ("url = \"s3://bucket/p\"\nendpoint = \"https://x\"\nlocal_cache = \"lots\"", "storage.local_cache", "a size"),
            ("local_cache = \"1GiB\"", "storage.url", "present"),
        ]
        for (body, key, says) in cases {
            do {
                _ = try HoardConfig.parse("[storage]\n" + body + "\n", path: "h.toml")
                Issue.record("accepted: \(body)")
            } catch {
                #expect(error.description.contains("'\(key)'"), "\(body): \(error)")
                #expect(error.description.contains(says), "\(body): \(error)")
            }
        }
    }

    /// The command line overrides the file part by part; `--s3-*` flags without a bucket are refused.
    @Test func commandLineOverridesTheFilePartByPart() throws {
        let file = try StorageSetting(url: "s3://from-file/p", endpoint: "https://file.example", region: "eu-west-1", pathStyle: true)
        let merged = try #require(try StorageSetting.resolve(
            config: file, url: "s3://from-flag/q", endpoint: nil, region: nil, pathStyle: false, redirect: true))
        #expect(merged.url == "s3://from-flag/q")
        #expect(merged.endpoint == "https://file.example")
        #expect(merged.region == "eu-west-1")
        #expect(merged.pathStyle && merged.redirect)
        let flagsOnly = try #require(try StorageSetting.resolve(
            config: nil, url: "s3://bucket", endpoint: "http://127.0.0.1:9000", region: nil, pathStyle: true, redirect: false))
        #expect(flagsOnly.endpoint == "http://127.0.0.1:9000")
        #expect(try StorageSetting.resolve(config: nil, url: nil, endpoint: nil, region: nil, pathStyle: false, redirect: false) == nil)
        #expect(try StorageSetting.resolve(config: file, url: nil, endpoint: nil, region: nil, pathStyle: false, redirect: false) == file)
        #expect(throws: StorageSetting.Invalid.self) {
            try StorageSetting.resolve(config: nil, url: nil, endpoint: "https://x", region: nil, pathStyle: false, redirect: false)
        }
        #expect(throws: StorageSetting.Invalid.self) {
            try StorageSetting.resolve(config: nil, url: "s3://bucket", endpoint: nil, region: nil, pathStyle: false, redirect: false)
        }
    }
}
