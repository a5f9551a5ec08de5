import Testing

@testable import HoardHTTP

@Suite struct ByteRangeTests {
    @Test func satisfiable() {
        #expect(ByteRange(header: "bytes=0-9", size: 100) == .partial(start: 0, end: 9))
        #expect(ByteRange(header: "bytes=90-", size: 100) == .partial(start: 90, end: 99))
        #expect(ByteRange(header: "bytes=90-1000", size: 100) == .partial(start: 90, end: 99))
        #expect(ByteRange(header: "bytes=-10", size: 100) == .partial(start: 90, end: 99))
        #expect(ByteRange(header: "bytes=-1000", size: 100) == .partial(start: 0, end: 99))
        #expect(ByteRange(header: "Bytes=5-5", size: 100) == .partial(start: 5, end: 5))
        #expect(ByteRange(header: " bytes=1-2 ", size: 100) == .partial(start: 1, end: 2))
        #expect(ByteRange(header: "bytes=1-2,", size: 100) == .partial(start: 1, end: 2))
        #expect(ByteRange(header: "bytes=0-9", size: 100).length == 10)
    }

    @Test func unsatisfiableIs416() {
        #expect(ByteRange(header: "bytes=100-", size: 100) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=100-200", size: 100) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=-0", size: 100) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=0-0", size: 0) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=99999999999999999999999-", size: 100) == .unsatisfiable)
    }

    @Test func invalidIsIgnored() {
        // RFC 9110 §14.2: an invalid Range is ignored (200), like another unit or several ranges.
        for ignored in ["bytes=0-1,5-6", "items=0-1", "bytes=abc", "bytes=9-3", "bytes=--1", "bytes=", "bytes",
                        "bytes=-", "bytes=1-2-3", "bytes=+1-2", "bytes=0x1-2", "bytes=1 -2", "=0-1", "bytes =0-1"] {
            #expect(ByteRange(header: ignored, size: 100) == .whole, "\(ignored)")
        }
        #expect(ByteRange(header: nil, size: 100) == .whole)
        #expect(ByteRange(header: "bytes=-5", size: 0) == .whole)  // nothing to send but the empty body
    }

    @Test func rangeSets() {
        // RFC 9110 §14.1.1: a valid set none of whose ranges is satisfiable is 416 (§15.5.17) ...
        #expect(ByteRange(header: "bytes=100-,200-300", size: 100) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=-0, 150-", size: 100) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=0-,1-", size: 0) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=\(String(repeating: "9", count: 30))-,100-", size: 100) == .unsatisfiable)
        // ... one satisfiable range among several is answered whole (no multipart; §14.2 allows it) ...
        #expect(ByteRange(header: "bytes=100-,0-1", size: 100) == .whole)
        #expect(ByteRange(header: "bytes=0-1, 5-6", size: 100) == .whole)
        // ... and one invalid member makes the whole field invalid: ignored.
        #expect(ByteRange(header: "bytes=100-,9-3", size: 100) == .whole)
        #expect(ByteRange(header: "bytes=100-,x", size: 100) == .whole)
        // OWS around members and list separators; none inside a member.
        #expect(ByteRange(header: "bytes=\t0-9 ,, ", size: 100) == .partial(start: 0, end: 9))
        #expect(ByteRange(header: "bytes=0- 9", size: 100) == .whole)
    }

    @Test func hugeNumbersNeverOverflow() {
        let huge = String(repeating: "9", count: 40)
        #expect(ByteRange(header: "bytes=0-\(huge)", size: 100) == .partial(start: 0, end: 99))
        #expect(ByteRange(header: "bytes=-\(huge)", size: 100) == .partial(start: 0, end: 99))
        #expect(ByteRange(header: "bytes=9223372036854775806-9223372036854775807", size: Int64.max)
            == .partial(start: 9_223_372_036_854_775_806, end: 9_223_372_036_854_775_806))
        #expect(ByteRange(header: "bytes=0-", size: Int64.max) == .partial(start: 0, end: Int64.max - 1))
        #expect(ByteRange(header: "bytes=-1", size: -5) == .whole)
    }

    @Test func contentRangeForms() throws {
        #expect(try ContentRange(header: "0-1023") == ContentRange(start: 0, end: 1023))
        #expect(try ContentRange(header: "bytes 1024-2047") == ContentRange(start: 1024, end: 2047))
        #expect(try ContentRange(header: "bytes=1024-2047") == ContentRange(start: 1024, end: 2047))
        #expect(try ContentRange(header: "bytes 1024-2047/4096").length == 1024)
        #expect(try ContentRange(header: "bytes 1024-2047/4096").completeLength == 4096)
        #expect(try ContentRange(header: "bytes 0-0/*").completeLength == nil)
        #expect(try ContentRange(header: "0-9223372036854775806").length == Int64.max)
        for bad in ["", "-", "1-", "-1", "5-4", "a-b", "1-2-3", "0x1-2", "bytes", "99999999999999999999-1",
                    "0-9223372036854775807", "bytes 0-9/9", "bytes 0-9/x", "bytes */10", "+1-2", "bytes 0-9/"] {
            #expect(throws: ContentRangeError.self, "\(bad)") { try ContentRange(header: bad) }
        }
        #expect(ContentRange.bytes(start: 0, end: 9, size: 10) == "bytes 0-9/10")
        #expect(ContentRange.unsatisfied(size: 10) == "bytes */10")
    }
}
