import Testing

@testable import HoardHTTP

@Suite struct PercentEncodingTests {
    @Test func decodes() throws {
        #expect(try PercentEncoding.decode("plain") == "plain")
        #expect(try PercentEncoding.decode("a%20b") == "a b")
        #expect(try PercentEncoding.decode("%2e%2E") == "..")
        #expect(try PercentEncoding.decode("sha256%3Aabc") == "sha256:abc")
        #expect(try PercentEncoding.decode("%C3%A9t%c3%a9") == "été")
        // `+` is a plus (media types), never a space.
        #expect(try PercentEncoding.decode("application/vnd.oci.image.manifest.v1+json") == "application/vnd.oci.image.manifest.v1+json")
        #expect(try PercentEncoding.decode("%2B") == "+")
        #expect(try PercentEncoding.decode("") == "")
        #expect(try PercentEncoding.decodeBytes(Array("%00%ff/".utf8)) == [0, 0xFF, 0x2F])
        #expect(PercentEncoding.decoded(Substring("x%41y")) == "xAy")
    }

    @Test func refusesMalformed() {
        for bad in ["%", "%4", "a%", "%zz", "%4g", "%%41", "% 41", "%-1", "100%"] {
            #expect(throws: PercentEncoding.DecodingError.invalidEscape, "\(bad)") { try PercentEncoding.decode(bad) }
            #expect(PercentEncoding.decoded(bad) == nil)
        }
        for bad in ["%ff", "%C3", "%C3%28", "%ED%A0%80", "%C0%AF"] {
            #expect(throws: PercentEncoding.DecodingError.invalidUTF8, "\(bad)") { try PercentEncoding.decode(bad) }
        }
    }

    @Test func encodes() throws {
        #expect(PercentEncoding.encode("a-b._~Z9") == "a-b._~Z9")
        #expect(PercentEncoding.encode("repository:team/app:pull,push") == "repository%3Ateam%2Fapp%3Apull%2Cpush")
        #expect(PercentEncoding.encode("team/app", keeping: [UInt8(ascii: "/")]) == "team/app")
        // Non-ASCII letters are encoded as UTF-8 bytes (Foundation's `.alphanumerics` kept them).
        #expect(PercentEncoding.encode("é ü+") == "%C3%A9%20%C3%BC%2B")
        for text in ["", "a b", "100%", "été/x?y=z&w", "\u{0}\u{7F}"] {
            #expect(try PercentEncoding.decode(PercentEncoding.encode(text)) == text)
        }
    }
}
