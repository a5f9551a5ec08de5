import HoardStore
import Testing
@testable import HoardConfig

@Suite struct ConfigLimitTests {
    @Test func readsTheLimits() throws {
        let config = try HoardConfig.parse("""
            [upstream]
            max_concurrent = 8
            credential_helper_timeout = "3s"

            [oci]
            max_upload_size = "2GiB"
            max_upload_sessions = 16
            auth_failures_per_minute = 5
            """, path: "hoard.toml")
        #expect(config.upstreamMaxConcurrent == 8)
        #expect(config.credentialHelperTimeout == .seconds(3))
        #expect(config.ociMaxUploadSize == ByteSize(bytes: 2 << 30))
        #expect(config.ociMaxUploadSessions == 16)
        #expect(config.ociAuthFailuresPerMinute == 5)
    }

    @Test func badLimitsNameTheKey() {
        for text in [
            "[upstream]\nmax_concurrent = 0\n", "[upstream]\nmax_concurrent = \"8\"\n", "[upstream]\ncredential_helper_timeout = \"soon\"\n",
            "[oci]\nmax_upload_size = \"huge\"\n", "[oci]\nmax_upload_sessions = -1\n", "[oci]\nauth_failures_per_minute = 0\n",
        ] {
            #expect(throws: ConfigError.self) { try HoardConfig.parse(text, path: "limits.toml") }
        }
    }
}
