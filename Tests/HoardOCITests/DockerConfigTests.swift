import Foundation
import Testing

@testable import HoardOCI

@Suite struct DockerConfigTests {
    /// A temp dir holding a real `docker-credential-fake` shell script, speaking docker's protocol:
    /// reads the server URL on stdin, prints JSON, or fails with "credentials not found".
    final class HelperDir {
        let url: URL
        init() throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("hoard-cred-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            let script = """
                #!/bin/sh
                [ "$1" = "get" ] || { echo "unsupported action $1" >&2; exit 2; }
                read -r server
                case "$server" in
                  ghcr.io) printf '{"ServerURL":"ghcr.io","Username":"gh-user","Secret":"ghp_secret"}\\n' ;;
                  https://index.docker.io/v1/) printf '{"ServerURL":"%s","Username":"<token>","Secret":"refresh-token"}\\n' "$server" ;;
                  broken.example) echo "keychain locked" >&2; exit 3 ;;
                  *) echo "credentials not found in native keychain"; exit 1 ;;
                esac
                """
            let path = url.appendingPathComponent("docker-credential-fake").path
            try script.write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        deinit { try? FileManager.default.removeItem(at: url) }
        var runner: ProcessCredentialHelperRunner { ProcessCredentialHelperRunner(searchPath: [url.path]) }
    }

    @Test func inlineAuths() throws {
        let json = """
            {"auths":{
              "https://registry.example:5000/v2/":{"auth":"\(Data("u1:p:1".utf8).base64EncodedString())"},
              "quay.io":{"username":"u2","password":"p2"},
              "id.example":{"identitytoken":"itok"},
              "empty.example":{}
            }}
            """
        let config = try DockerConfigCredentials(data: Data(json.utf8), runner: ProcessCredentialHelperRunner(searchPath: []))
        #expect(try config.credentials(for: "registry.example:5000")?.kind == .basic(BasicCredentials(username: "u1", password: "p:1")))
        #expect(try config.credentials(for: "https://quay.io")?.kind == .basic(BasicCredentials(username: "u2", password: "p2")))
        #expect(try config.credentials(for: "id.example")?.kind == .identityToken("itok"))
        #expect(try config.credentials(for: "empty.example") == nil)
        #expect(try config.credentials(for: "ghcr.io") == nil)
        let bad = try DockerConfigCredentials(data: Data(#"{"auths":{"x.io":{"auth":"!!"}}}"#.utf8))
        #expect(throws: RegistryCredentialsError.self) { try bad.credentials(for: "x.io") }
        #expect(throws: RegistryCredentialsError.self) { try DockerConfigCredentials(data: Data("[]".utf8)) }
    }

    @Test func helpersWithRealScript() throws {
        let dir = try HelperDir()
        let json = """
            {"auths":{"ghcr.io":{},"quay.io":{"username":"inline","password":"pw"}},
             "credHelpers":{"ghcr.io":"fake","broken.example":"fake","missing.example":"nosuchhelper"},
             "credsStore":"fake"}
            """
        let config = try DockerConfigCredentials(data: Data(json.utf8), runner: dir.runner)
        let gh = try #require(try config.credentials(for: "https://ghcr.io"))
        #expect(gh.kind == .basic(BasicCredentials(username: "gh-user", password: "ghp_secret")))
        #expect(gh.source.contains("docker-credential-fake"))
        // Docker Hub via credsStore, asked with the legacy server URL; "<token>" means identity token.
        #expect(try config.credentials(for: "docker.io")?.kind == .identityToken("refresh-token"))
        // Inline entry wins over credsStore.
        #expect(try config.credentials(for: "quay.io")?.kind == .basic(BasicCredentials(username: "inline", password: "pw")))
        // Helper says "credentials not found" → nil, not an error.
        #expect(try config.credentials(for: "other.example") == nil)
        // Helper failure is reported with its stderr.
        let failure = try #require(throws: RegistryCredentialsError.self) { try config.credentials(for: "broken.example") }
        #expect(failure.message.contains("keychain locked"))
        #expect(throws: RegistryCredentialsError.self) { try config.credentials(for: "missing.example") }
    }

    @Test func loadFromDockerConfigDirAndEnvironment() throws {
        let dir = try HelperDir()
        let configDir = dir.url.appendingPathComponent("docker")
        try FileManager.default.createDirectory(at: configDir, withIntermediateDirectories: true)
        try #"{"credHelpers":{"ghcr.io":"fake"}}"#.write(
            to: configDir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)

        let fromConfig = try UpstreamCredentials.load(environment: ["DOCKER_CONFIG": configDir.path], runner: dir.runner)
        #expect(try fromConfig.credentials(for: "ghcr.io")?.kind == .basic(BasicCredentials(username: "gh-user", password: "ghp_secret")))

        // HOARD_REGISTRY_USER/PASSWORD win for every registry...
        let env = try UpstreamCredentials.load(
            environment: ["DOCKER_CONFIG": configDir.path, "HOARD_REGISTRY_USER": "bot", "HOARD_REGISTRY_PASSWORD": "pat"],
            runner: dir.runner)
        #expect(try env.credentials(for: "ghcr.io")?.kind == .basic(BasicCredentials(username: "bot", password: "pat")))
        #expect(try env.credentials(for: "quay.io")?.source == "HOARD_REGISTRY_USER")
        // ...unless HOARD_REGISTRY_HOST limits them.
        let limited = try UpstreamCredentials.load(
            environment: [
                "DOCKER_CONFIG": configDir.path, "HOARD_REGISTRY_USER": "bot", "HOARD_REGISTRY_PASSWORD": "pat",
                "HOARD_REGISTRY_HOST": "quay.io",
            ], runner: dir.runner)
        #expect(try limited.credentials(for: "ghcr.io")?.kind == .basic(BasicCredentials(username: "gh-user", password: "ghp_secret")))
        #expect(try limited.credentials(for: "https://quay.io/v2/")?.source == "HOARD_REGISTRY_USER")
        #expect(throws: RegistryCredentialsError.self) {
            try UpstreamCredentials.load(environment: ["HOARD_REGISTRY_USER": "bot"], runner: dir.runner)
        }
        // No config at all is fine.
        let none = try UpstreamCredentials.load(environment: ["HOME": dir.url.path], runner: dir.runner)
        #expect(none.dockerConfig == nil)
        #expect(try none.credentials(for: "ghcr.io") == nil)
    }

    @Test func hostNormalisation() {
        #expect(DockerConfigCredentials.normalizedHost("https://GHCR.io/v2/") == "ghcr.io")
        #expect(DockerConfigCredentials.normalizedHost("registry-1.docker.io") == "index.docker.io")
        #expect(DockerConfigCredentials.normalizedHost("https://index.docker.io/v1/") == "index.docker.io")
        #expect(DockerConfigCredentials.normalizedHost("localhost:5000") == "localhost:5000")
    }
}
