import Testing
@testable import HoardConfig

@Suite struct ConfigOCITests {
    @Test func readsTheOCIAndTLSTables() throws {
        let config = try HoardConfig.parse("""
            [oci]
            htpasswd = "/etc/hoard/users"
            auth_reads = true
            conda_namespace = "mirrors/conda"

            [tls]
            cert = "/etc/hoard/cert.pem"
            key = "/etc/hoard/key.pem"
            """, path: "hoard.toml")
        #expect(config.ociHtpasswd == "/etc/hoard/users")
        #expect(config.ociAuthReads == true)
        #expect(config.ociCondaNamespace == "mirrors/conda")
        #expect(config.tlsCert == "/etc/hoard/cert.pem" && config.tlsKey == "/etc/hoard/key.pem")
    }

    @Test func mistakesNameTheKey() {
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[oci]\nauth_reads = \"yes\"\n", path: "a.toml") }
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[oci]\nhtpassword = \"x\"\n", path: "b.toml") }
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[tls]\ncert = \"c.pem\"\n", path: "c.toml") }
    }
}
