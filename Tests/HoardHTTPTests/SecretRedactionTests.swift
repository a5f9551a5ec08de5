import Testing
@testable import HoardHTTP

@Suite struct SecretRedactionTests {
    @Test func hidesCondaPathTokens() {
        #expect(SecretRedaction.redact("https://conda.anaconda.org/t/abc-123/private/noarch/x.conda")
            == "https://conda.anaconda.org/t/<redacted>/private/noarch/x.conda")
        #expect(SecretRedaction.redact("/t/hoard_0f/priv/noarch/repodata.json") == "/t/<redacted>/priv/noarch/repodata.json")
        #expect(SecretRedaction.redact("a /t/x/ and /t/y/ twice") == "a /t/<redacted>/ and /t/<redacted>/ twice")
        #expect(SecretRedaction.redact("upstream http://h/t/SECRET answered") == "upstream http://h/t/<redacted> answered")
    }

    @Test func hidesUserinfoPasswords() {
        #expect(SecretRedaction.redact("http://alice:s3cret@127.0.0.1:8080/priv") == "http://alice:<redacted>@127.0.0.1:8080/priv")
        #expect(SecretRedaction.redact("see https://u:p@a/x and https://v:q@b/y") == "see https://u:<redacted>@a/x and https://v:<redacted>@b/y")
    }

    @Test func leavesTextWithoutSecretsAlone() {
        for text in ["https://conda.anaconda.org/conda-forge/noarch/repodata.json", "user@example.com", "/tt/x/", "http://alice@host/x", "/t//x", ""] {
            #expect(SecretRedaction.redact(text) == text)
        }
        // Already redacted text stays as it is.
        let once = SecretRedaction.redact("http://a:b@h/t/tok/c")
        #expect(SecretRedaction.redact(once) == once)
    }
}
