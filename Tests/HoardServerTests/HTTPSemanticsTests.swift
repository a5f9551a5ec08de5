import Hummingbird
import Testing
@testable import HoardServer

@Suite struct HTTPSemanticsTests {
    @Test func byteRanges() {
        #expect(ByteRange(header: nil, size: 100) == .whole)
        #expect(ByteRange(header: "bytes=0-9", size: 100) == .partial(start: 0, end: 9))
        #expect(ByteRange(header: "bytes=90-", size: 100) == .partial(start: 90, end: 99))
        #expect(ByteRange(header: "bytes=90-1000", size: 100) == .partial(start: 90, end: 99))
        #expect(ByteRange(header: "bytes=-10", size: 100) == .partial(start: 90, end: 99))
        #expect(ByteRange(header: "bytes=-1000", size: 100) == .partial(start: 0, end: 99))
        #expect(ByteRange(header: "bytes=100-", size: 100) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=-0", size: 100) == .unsatisfiable)
        // Ignored, answered whole: several ranges, other units, nonsense, reversed bounds.
        for ignored in ["bytes=0-1,5-6", "items=0-1", "bytes=abc", "bytes=9-3", "bytes=--1"] {
            #expect(ByteRange(header: ignored, size: 100) == .whole, "\(ignored)")
        }
    }

    @Test func httpDatesRoundTrip() {
        #expect(HTTPDate.format(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == nil)
        #expect(HTTPDate.parse("garbage") == nil)
    }

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
