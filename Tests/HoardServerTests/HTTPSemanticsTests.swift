import Hummingbird
import Testing
@testable import HoardServer

@Suite struct HTTPSemanticsTests {
    // Range, Content-Range and HTTP dates are HoardHTTP's: Tests/HoardHTTPTests.

    @Test func conditionalRequests() {
        let validators = Validators(digestHex: "abc", lastModified: 784111777)
        #expect(validators.notModified([.ifNoneMatch: "\"abc\""]))
        #expect(validators.notModified([.ifNoneMatch: "W/\"abc\""]))
        #expect(validators.notModified([.ifNoneMatch: "\"x\", \"abc\""]))
        #expect(validators.notModified([.ifNoneMatch: "*"]))
        #expect(!validators.notModified([.ifNoneMatch: "\"other\""]))
        // If-None-Match wins over If-Modified-Since.
        #expect(!validators.notModified([.ifNoneMatch: "\"other\"", .ifModifiedSince: "Sun, 06 Nov 1994 08:49:37 GMT"]))
        #expect(validators.notModified([.ifModifiedSince: "Sun, 06 Nov 1994 08:49:37 GMT"]))
        #expect(!validators.notModified([.ifModifiedSince: "Sun, 06 Nov 1994 08:49:36 GMT"]))
        #expect(validators.ifRangeHolds([:]))
        #expect(validators.ifRangeHolds([.ifRange: "\"abc\""]))
        #expect(!validators.ifRangeHolds([.ifRange: "W/\"abc\""]))
        #expect(!validators.ifRangeHolds([.ifRange: "\"old\""]))
        #expect(validators.ifRangeHolds([.ifRange: "Sun, 06 Nov 1994 08:49:37 GMT"]))
    }
}
