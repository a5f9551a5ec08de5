import Testing
@testable import HoardConfig
import HoardStore

@Suite struct ConfigTests {
    @Test func readsEverySetting() throws {
        let config = try HoardConfig.parse("""
            # a comment
            [store]
            root = "/srv/hoard"
            max_size = "50GB"

            [server]
            host = "0.0.0.0"
            port = 9000

            [log]
            level = "debug"
            """, path: "hoard.toml")
        #expect(config.root == "/srv/hoard")
        #expect(config.maxSize == ByteSize(bytes: 50_000_000_000))
        #expect(config.host == "0.0.0.0")
        #expect(config.port == 9000)
        #expect(config.logLevel == "debug")
    }

    @Test func readsChannelsUpstreamAndRepodata() throws {
        let config = try HoardConfig.parse("""
            [channels]
            conda-forge = "https://mirror.example/conda-forge"
            bioconda = "https://conda.anaconda.org/bioconda"

            [upstream]
            timeout = "45s"

            [repodata]
            ttl = "2m"
            """, path: "c.toml")
        #expect(config.channels.map(\.name) == ["conda-forge", "bioconda"])
        #expect(config.channels.first?.url == "https://mirror.example/conda-forge")
        #expect(config.upstreamTimeout == .seconds(45))
        #expect(config.repodataTTL == .seconds(120))
    }

    @Test func badChannelsAreExplained() {
        let reserved = #expect(throws: ConfigError.self) {
            try HoardConfig.parse("[channels]\nv2 = \"https://x.example/c\"\n", path: "c.toml")
        }
        #expect(reserved?.description.hasPrefix("c.toml:2: 'channels.v2' must be a channel name other than") == true)
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[channels]\nc = \"ftp://x\"\n", path: "c.toml") }
        #expect(throws: ConfigError.invalidValue(path: "c.toml", line: 2, key: "upstream.timeout", expected: "a duration such as \"30s\", \"10m\" or \"2h\"")) {
            try HoardConfig.parse("[upstream]\ntimeout = \"soon\"\n", path: "c.toml")
        }
    }

    @Test func anEmptyFileMeansDefaults() throws {
        #expect(try HoardConfig.parse("", path: "empty.toml") == HoardConfig())
    }

    @Test func syntaxErrorsNameTheLine() {
        #expect {
            try HoardConfig.parse("[server]\nport = 80\nhost = \"unterminated\n", path: "bad.toml")
        } throws: { error in
            guard case ConfigError.syntax(let path, let line, _, _) = error else { return false }
            return path == "bad.toml" && line == 3
        }
    }

    @Test func wrongTypesNameTheKeyAndLine() {
        let error = #expect(throws: ConfigError.self) {
            try HoardConfig.parse("[store]\nroot = \"/x\"\n\n[server]\nhost = \"h\"\nport = \"eighty\"\n", path: "c.toml")
        }
        #expect(error == .invalidValue(path: "c.toml", line: 6, key: "server.port", expected: "an integer"))
        #expect(error?.description == "c.toml:6: 'server.port' must be an integer")
    }

    @Test func unknownKeysAreErrorsNotSilentDefaults() {
        let error = #expect(throws: ConfigError.self) {
            try HoardConfig.parse("[server]\nprot = 80\n", path: "c.toml")
        }
        #expect(error == .unknownKey(path: "c.toml", line: 2, key: "server.prot", known: ["host", "port", "fast_path", "offline", "offline_full_repodata"]))
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[sever]\nport = 80\n", path: "c.toml") }
    }

    @Test func theFastPathCanBeTurnedOff() throws {
        #expect(try HoardConfig.parse("[server]\nfast_path = false\n", path: "c.toml").fastPath == false)
        #expect(try HoardConfig.parse("[server]\nport = 80\n", path: "c.toml").fastPath == nil)
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[server]\nfast_path = \"no\"\n", path: "c.toml") }
    }

    @Test func offlineModeIsASetting() throws {
        let config = try HoardConfig.parse("[server]\noffline = true\noffline_full_repodata = true\n", path: "c.toml")
        #expect(config.offline == true && config.offlineFullRepodata == true)
        #expect(try HoardConfig.parse("[server]\nport = 80\n", path: "c.toml").offline == nil)
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[server]\noffline = \"yes\"\n", path: "c.toml") }
    }

    @Test func badValuesAreExplained() {
        #expect(throws: ConfigError.invalidValue(path: "c.toml", line: 2, key: "store.max_size", expected: "a size such as \"50GB\" or \"2GiB\"")) {
            try HoardConfig.parse("[store]\nmax_size = \"lots\"\n", path: "c.toml")
        }
        #expect(throws: ConfigError.invalidValue(path: "c.toml", line: 3, key: "server.port", expected: "an integer from 0 to 65535")) {
            try HoardConfig.parse("[server]\n\nport = 70000\n", path: "c.toml")
        }
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[log]\nlevel = \"loud\"\n", path: "c.toml") }
    }

    @Test func theShippedDefaultConfigParses() throws {
        let path = #filePath.components(separatedBy: "/Tests/")[0] + "/Config/hoard.toml"
        _ = try HoardConfig.load(path: path)
    }

    @Test func maxDocumentSizeIsASizeAboveZero() throws {
        let config = try HoardConfig.parse("[upstream]\nmax_document_size = \"512MiB\"\n", path: "c.toml")
        #expect(config.maxDocumentSize == ByteSize(bytes: 512 << 20))
        for bad in ["\"0\"", "\"lots\"", "\"99999999999999999999TB\"", "5"] {
            #expect(throws: ConfigError.self) { try HoardConfig.parse("[upstream]\nmax_document_size = \(bad)\n", path: "c.toml") }
        }
    }
}
