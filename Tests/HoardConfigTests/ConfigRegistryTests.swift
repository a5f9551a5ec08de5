import Testing
@testable import HoardConfig

@Suite struct ConfigRegistryTests {
    @Test func readsRegistriesFallbacksAndOCIMirrorChannels() throws {
        let config = try HoardConfig.parse("""
            [channels]
            conda-forge = "oci://ghcr.io/channel-mirrors/conda-forge"
            local = "oci+http://127.0.0.1:5000/mirrors/local"

            [fallbacks]
            conda-forge = "https://conda.anaconda.org/conda-forge"

            [registries]
            "ghcr.io" = "https://ghcr.io"
            local = "http://127.0.0.1:5000"

            [oci]
            registry_tag_ttl = "2m"
            """, path: "hoard.toml")
        #expect(config.channels.map(\.url) == ["oci://ghcr.io/channel-mirrors/conda-forge", "oci+http://127.0.0.1:5000/mirrors/local"])
        #expect(config.fallbacks.map(\.url) == ["https://conda.anaconda.org/conda-forge"])
        #expect(config.registries.map(\.name) == ["ghcr.io", "local"])
        #expect(config.registryTagTTL == .seconds(120))
    }

    @Test func refusesUnusableRegistriesAndMirrors() {
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[registries]\nGHCR = \"https://ghcr.io\"\n", path: "a.toml") }
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[registries]\nghcr = \"ftp://ghcr.io\"\n", path: "b.toml") }
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[channels]\ncf = \"oci://ghcr.io\"\n", path: "c.toml") }
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[fallbacks]\ncf = \"oci://ghcr.io/x/y\"\n", path: "d.toml") }
        #expect(throws: ChannelSetting.Invalid.self) { try RegistrySetting(argument: "ghcr.io") }
        #expect(throws: ChannelSetting.Invalid.self) { try ChannelSetting(argument: "cf=oci+http://") }
    }
}
