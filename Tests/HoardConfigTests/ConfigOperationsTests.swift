import HoardConfig
import Testing

/// The operations keys: log format, access log, eviction interval.
@Suite struct ConfigOperationsTests {
    @Test func readsTheOperationsKeys() throws {
        let config = try HoardConfig.parse("""
            [store]
            eviction_interval = "5s"

            [log]
            format = "json"
            access = false
            """, path: "hoard.toml")
        #expect(config.logFormat == "json")
        #expect(config.accessLog == false)
        #expect(config.evictionInterval == .seconds(5))
        let defaults = try HoardConfig.parse("", path: "hoard.toml")
        #expect(defaults.logFormat == nil && defaults.accessLog == nil && defaults.evictionInterval == nil)
    }

    @Test func badValuesNameTheKey() {
        #expect(throws: ConfigError.invalidValue(path: "c.toml", line: 2, key: "log.format", expected: "text or json")) {
            try HoardConfig.parse("[log]\nformat = \"xml\"\n", path: "c.toml")
        }
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[log]\naccess = \"yes\"\n", path: "c.toml") }
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[store]\neviction_interval = \"soon\"\n", path: "c.toml") }
    }
}

extension ConfigOperationsTests {
    /// `/metrics` is hoard's own path: no channel may take it.
    @Test func metricsIsNotAChannelName() {
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[channels]\nmetrics = \"https://example.org/ch\"\n", path: "c.toml") }
    }
}
