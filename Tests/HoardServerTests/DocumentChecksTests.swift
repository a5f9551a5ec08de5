import HoardConda
import HoardUpstream
import Testing
@testable import HoardServer

/// What a channel document must look like before hoard stores any of it.
@Suite struct DocumentChecksTests {
    @Test func eachKindHasTheSignatureOfItsFormat() {
        #expect(DocumentKind.repodata.signature(zstd: true) == .zstd)
        #expect(DocumentKind.repodata.signature(zstd: false) == .jsonObject)
        #expect(DocumentKind.currentRepodata.signature(zstd: false) == .jsonObject)
        #expect(DocumentKind.channeldata.signature(zstd: false) == .jsonObject)
        #expect(DocumentKind.repodataBz2.signature(zstd: false) == .bzip2)
        #expect(DocumentKind.shardIndex.signature(zstd: false) == .zstd)
    }

    @Test func documentsThatDoNotParseAreRefused() throws {
        func validate(_ kind: DocumentKind, _ bytes: [UInt8]) throws(UpstreamError) {
            var failure: UpstreamError?
            bytes.withUnsafeBytes { raw in
                do throws(UpstreamError) { try kind.validate(raw, url: "http://up/doc") } catch { failure = error }
            }
            if let failure { throw failure }
        }
        try validate(.repodata, Array(#"{"info": {"subdir": "noarch"}, "packages": {}}"#.utf8))
        #expect(throws: UpstreamError.self) { try validate(.repodata, Array(#"{"info": 7}"#.utf8)) }
        #expect(throws: UpstreamError.self) { try validate(.currentRepodata, Array("{".utf8)) }
        #expect(throws: UpstreamError.self) { try validate(.shardIndex, try Zstd.compress(Array("not msgpack".utf8))) }
        // Passed through unparsed: only their first bytes are checked, while they stream.
        try validate(.channeldata, Array("{".utf8))
        try validate(.repodataBz2, Array("BZh".utf8))
    }
}
