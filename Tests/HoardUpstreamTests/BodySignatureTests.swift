import NIOCore
import Testing
@testable import HoardUpstream

/// The first-bytes checks that keep an error page sent with 200 out of the store, and the
/// saturating conversion of configured timeouts.
@Suite struct BodySignatureTests {
    static let html = Array("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>".utf8)

    @Test func documentsMustLookLikeWhatWasAskedFor() {
        #expect(BodySignature.jsonObject.matches(Array(" \n\t{\"info\":{}}".utf8)) == true)
        #expect(BodySignature.jsonObject.matches([0xEF, 0xBB, 0xBF] + Array("{}".utf8)) == true)
        #expect(BodySignature.jsonObject.matches(Array("   ".utf8)) == nil)
        #expect(BodySignature.jsonObject.matches(Self.html) == false)
        #expect(BodySignature.jsonObject.matches(Array("[1,2]".utf8)) == false)
        #expect(BodySignature.zstd.matches([0x28, 0xB5, 0x2F, 0xFD, 0x00]) == true)
        #expect(BodySignature.zstd.matches([0x28, 0xB5]) == nil)
        #expect(BodySignature.zstd.matches([0x5E, 0x2A, 0x4D, 0x18, 0, 0, 0, 0]) == true)  // skippable frame
        #expect(BodySignature.zstd.matches(Self.html) == false)
        #expect(BodySignature.bzip2.matches(Array("BZh91AY".utf8)) == true)
        #expect(BodySignature.bzip2.matches(Array("BZ".utf8)) == nil)
        #expect(BodySignature.zip.matches([0x50, 0x4B, 0x03, 0x04, 0x14]) == true)
        #expect(BodySignature.zip.matches(Self.html) == false)
    }

    @Test func aCheckRefusesAtTheFirstWrongChunkAndAtAnEndTooShortToTell() throws {
        var check = SignatureCheck(.zip, url: "http://up/x.conda")
        #expect(throws: UpstreamError.self) { try check.feed(ByteBuffer(bytes: Self.html)) }

        var split = SignatureCheck(.zip, url: "http://up/x.conda")
        try split.feed(ByteBuffer(bytes: [0x50, 0x4B]))
        try split.feed(ByteBuffer(bytes: [0x03, 0x04, 0xFF]))
        try split.finish()

        var short = SignatureCheck(.jsonObject, url: "http://up/repodata.json")
        try short.feed(ByteBuffer(bytes: Array("  ".utf8)))
        #expect(throws: UpstreamError.self) { try short.finish() }
        #expect(throws: UpstreamError.self) { try SignatureCheck(.bzip2, url: "u").finish() }
    }

    @Test func errorPageContentTypesAreRefusedOthersAreNot() {
        #expect(BodySignature.isErrorPageType("text/html; charset=utf-8"))
        #expect(BodySignature.isErrorPageType("Text/HTML"))
        #expect(!BodySignature.isErrorPageType("application/json"))
        #expect(!BodySignature.isErrorPageType("text/plain"))  // static servers send JSON as that
        #expect(!BodySignature.isErrorPageType(nil))
        #expect(throws: UpstreamError.self) {
            try SignatureCheck.checkContentType("text/html", expected: .jsonObject, url: "u")
        }
    }

    @Test func configuredTimeoutsSaturateInsteadOfOverflowing() {
        #expect(HTTPUpstream.timeAmount(.seconds(30)) == .seconds(30))
        #expect(HTTPUpstream.timeAmount(.milliseconds(1500)) == .milliseconds(1500))
        #expect(HTTPUpstream.timeAmount(.seconds(Int64.max)) == .nanoseconds(.max))
        #expect(HTTPUpstream.timeAmount(.seconds(Int64.max / 1_000_000_000)).nanoseconds > 0)
        #expect(HTTPUpstream.timeAmount(.seconds(-5)) == .nanoseconds(0))
    }
}
