import Testing

@testable import HoardUpstream

/// The token request form hoard sends upstream (refresh-token grant).
@Suite struct FormEncodingTests {
    @Test func encodesAllButUnreservedASCII() {
        #expect(RegistryAuth.formEncode("repository:team/app:pull") == "repository%3Ateam%2Fapp%3Apull")
        // Non-ASCII letters as their UTF-8 bytes.
        #expect(RegistryAuth.formEncode("équipe") == "%C3%A9quipe")
        #expect(RegistryAuth.formEncode("a+b c&d=e") == "a%2Bb%20c%26d%3De")
    }
}
