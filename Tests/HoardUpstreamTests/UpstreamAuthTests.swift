import Foundation
import Testing
@testable import HoardUpstream

@Suite struct UpstreamAuthTests {
    static let authFile = """
        {
          "repo.prefix.dev": {"BearerToken": "bearer-exact"},
          "*.example.com": {"BasicHTTP": {"username": "wild", "password": "card"}},
          "127.0.0.1:9000": {"CondaToken": "ctok"}
        }
        """

    @Test func rattlerAuthFileMatchesHostsAndWildcards() throws {
        let file = try RattlerAuthFile(data: Data(Self.authFile.utf8), path: "auth.json")
        #expect(file.credential(host: "repo.prefix.dev", hostAndPort: "repo.prefix.dev")?.credential == .bearer("bearer-exact"))
        #expect(file.credential(host: "a.b.example.com", hostAndPort: "a.b.example.com:443")?.key == "*.example.com")
        #expect(file.credential(host: "example.com", hostAndPort: "example.com") == nil)
        #expect(file.credential(host: "127.0.0.1", hostAndPort: "127.0.0.1:9000")?.credential == .condaToken("ctok"))
        #expect(file.credential(host: "127.0.0.1", hostAndPort: "127.0.0.1:9001") == nil)
    }

    @Test func rattlerAuthFileErrorsNameTheHostNotTheSecret() {
        do {
            _ = try RattlerAuthFile(data: Data(#"{"h.example": {"Bearer": "s3cret"}}"#.utf8), path: "auth.json")
            Issue.record("accepted a malformed entry")
        } catch {
            #expect(error.description.contains("\"h.example\""))
            #expect(!error.description.contains("s3cret"))
        }
    }

    @Test func netrcMachinesAndDefault() {
        let netrc = Netrc(text: """
            machine artifactory.example login ci password pw1
            machine other.example
              login o
              password pw2
            macdef init
            machine ignored.example login x password y

            default login anon password pw3
            """, path: "/home/u/.netrc")
        #expect(netrc.credential(host: "artifactory.example")?.password == "pw1")
        #expect(netrc.credential(host: "other.example")?.login == "o")
        #expect(netrc.credential(host: "ignored.example")?.machine == "default")
        #expect(netrc.credential(host: "elsewhere")?.password == "pw3")
    }

    @Test func sourcesInOrderAndOnlyForTheirHost() throws {
        let files = CredentialFiles(
            rattler: try RattlerAuthFile(data: Data(Self.authFile.utf8), path: "auth.json"),
            netrc: Netrc(text: "machine nexus.internal login n password npw\n", path: "/n/.netrc"))
        let configured = UpstreamAuth(channel: "c", url: "https://repo.prefix.dev/team", configured: .basic(username: "u", password: "p"), files: files)
        // The configured credential wins on its host; another host gets that host's entry.
        #expect(configured.credential(for: "https://repo.prefix.dev/team/noarch/repodata.json").credential == .basic(username: "u", password: "p"))
        #expect(configured.credential(for: "https://cdn.example.com/x.conda").credential == .basic(username: "wild", password: "card"))
        let fromFile = UpstreamAuth(channel: "c", url: "https://repo.prefix.dev/team", configured: nil, files: files)
        let (credential, source) = fromFile.credential(for: "https://repo.prefix.dev/team/noarch/repodata.json")
        #expect(credential == .bearer("bearer-exact"))
        #expect(source.description.contains("RATTLER_AUTH_FILE auth.json") && !source.description.contains("bearer-exact"))
        let netrc = UpstreamAuth(channel: "c", url: "http://nexus.internal/repository/conda", configured: nil, files: files)
        #expect(netrc.credential(for: "http://nexus.internal/repository/conda/noarch/repodata.json").source.description.contains("/n/.netrc"))
        let tokenURL = UpstreamAuth(channel: "c", url: "https://nexus.internal/t/abc/conda", configured: nil, files: files)
        let tokenAnswer = tokenURL.credential(for: "https://nexus.internal/t/abc/conda/noarch/repodata.json")
        #expect(tokenAnswer.credential == nil && tokenAnswer.source.description.contains("/t/<redacted>/"))
        let none = UpstreamAuth(channel: "c", url: "https://open.example/x", configured: nil, files: CredentialFiles())
        #expect(none.credential(for: "https://open.example/x/noarch/repodata.json").source.description.hasPrefix("no credentials"))
    }

    @Test func appliesEachKindOfCredential() {
        var request = UpstreamRequest(url: "http://127.0.0.1:9000/chan/noarch/repodata.json")
        UpstreamCredential.condaToken("ctok").apply(to: &request)
        #expect(request.url == "http://127.0.0.1:9000/t/ctok/chan/noarch/repodata.json")
        UpstreamCredential.condaToken("other").apply(to: &request)
        #expect(request.url == "http://127.0.0.1:9000/t/ctok/chan/noarch/repodata.json")
        UpstreamCredential.basic(username: "u", password: "p").apply(to: &request)
        #expect(request.headers.first(name: "Authorization") == "Basic dTpw")
        UpstreamCredential.bearer("b").apply(to: &request)
        #expect(request.headers["Authorization"] == ["Bearer b"])
    }

    @Test func unauthorizedErrorNamesChannelAndSourceButNoSecret() {
        let error = UpstreamError.unauthorized(channel: "internal", url: "https://h/t/SECRET/x/repodata.json", code: 401, source: "credentials from /n/.netrc, machine h")
        #expect(error.description.contains("channel internal") && error.description.contains("/n/.netrc") && error.description.contains("401"))
        #expect(!error.description.contains("SECRET"))
        #expect(!error.isNotFound)
    }
}

@Suite struct CredentialPrintingTests {
    /// Settings are dumped whole into debug logs (service descriptions): no secret may show.
    @Test func printingNeverShowsSecrets() throws {
        struct Holder { let credential: UpstreamCredential; let files: CredentialFiles }
        let holder = Holder(
            credential: .basic(username: "u", password: "pw-secret"),
            files: CredentialFiles(
                rattler: try RattlerAuthFile(data: Data(#"{"h": {"BearerToken": "tok-secret"}}"#.utf8), path: "a.json"),
                netrc: Netrc(text: "machine h login l password netrc-secret\n", path: "/n")))
        for text in [String(describing: holder), String(reflecting: holder), "\(UpstreamCredential.bearer("tok-secret"))", "\(UpstreamCredential.condaToken("tok-secret"))"] {
            #expect(!text.contains("secret"), "\(text)")
        }
    }
}
