import Testing
@testable import HoardConfig

@Suite struct ConfigChannelTableTests {
    @Test func readsTablesBesideTheShortForm() throws {
        let config = try HoardConfig.parse("""
            [channels]
            conda-forge = "https://conda.anaconda.org/conda-forge"

            [channels.internal]
            url = "https://artifactory.example/conda/internal"
            username = "ci"
            password = "${HOARD_TEST_PASSWORD}"
            readers = "/etc/hoard/readers.htpasswd"

            [channels.prefix]
            url = "https://repo.prefix.dev/team"
            token = "${HOARD_TEST_TOKEN}"
            private = true
            """, path: "c.toml", environment: ["HOARD_TEST_PASSWORD": "pw", "HOARD_TEST_TOKEN": "tk"])
        #expect(config.channels.map(\.name) == ["conda-forge", "internal", "prefix"])
        #expect(config.channels[0].upstreamCredentials == nil && !config.channels[0].isProtected)
        #expect(config.channels[1].url == "https://artifactory.example/conda/internal")
        #expect(config.channels[1].upstreamCredentials == .basic(username: "ci", password: "pw"))
        #expect(config.channels[1].readers == "/etc/hoard/readers.htpasswd" && config.channels[1].isProtected)
        #expect(config.channels[2].upstreamCredentials == .bearer("tk"))
        #expect(config.channels[2].isPrivate && config.channels[2].readers == nil)
    }

    @Test func expandsEnvironmentVariablesInTheURL() throws {
        let config = try HoardConfig.parse("""
            [channels.ac]
            url = "https://conda.anaconda.org/t/${AC_TOKEN}/private"
            """, path: "c.toml", environment: ["AC_TOKEN": "xy-12"])
        #expect(config.channels.first?.url == "https://conda.anaconda.org/t/xy-12/private")
    }

    @Test func refusesWhatCannotBeUsedWithoutShowingSecrets() {
        let cases: [(String, String)] = [
            ("[channels.a]\nurl = \"https://h/a\"\npassword = \"${UNSET_VAR}\"\nusername = \"u\"\n", "UNSET_VAR is set"),
            ("[channels.a]\nurl = \"https://h/a\"\nusername = \"u\"\n", "'channels.a.username' must be given with password"),
            ("[channels.a]\nurl = \"https://h/a\"\ntoken = \"t\"\nusername = \"u\"\npassword = \"p\"\n", "'channels.a.token' must be alone"),
            ("[channels.a]\nusername = \"u\"\n", "needs url"),
            ("[channels.a]\nurl = \"https://h/a\"\nreader = \"x\"\n", "unknown key 'channels.a.reader'"),
            ("[channels.a]\nurl = \"https://h/a\"\nprivate = \"yes\"\n", "'channels.a.private' must be true or false"),
            ("[channels]\nt = \"https://h/a\"\n", "a channel name other than"),
            ("[channels.a]\nurl = \"https://h/${OPEN\"\n", "closed by }"),
        ]
        for (text, expected) in cases {
            do {
                _ = try HoardConfig.parse(text, path: "c.toml", environment: [:])
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.description.contains(expected), "\(error.description)")
                #expect(!error.description.contains("\"p\"") && !error.description.contains("= t"))
            }
        }
    }
}
