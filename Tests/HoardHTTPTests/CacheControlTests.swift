import Testing

@testable import HoardHTTP

@Suite struct CacheControlTests {
    @Test func maxAgeIsDeltaSeconds() {
        #expect(CacheControl("public, max-age=60").maxAge == 60)
        #expect(CacheControl("max-age=0").maxAge == 0)
        #expect(CacheControl("MAX-AGE=30, Public").maxAge == 30)
        #expect(CacheControl("  max-age = 7 ").maxAge == 7)
        #expect(CacheControl("max-age=\"45\"").maxAge == 45)
        #expect(CacheControl("max-age=007").maxAge == 7)
    }

    @Test func tooLargeSaturatesAtTwoToThe31() {
        #expect(CacheControl("public, max-age=99999999999999999999999").maxAge == 2_147_483_648)
        #expect(CacheControl("max-age=2147483648").maxAge == 2_147_483_648)
        #expect(CacheControl("max-age=2147483649").maxAge == 2_147_483_648)
        #expect(CacheControl("max-age=2147483647").maxAge == 2_147_483_647)
        #expect(CacheControl("max-age=" + String(repeating: "9", count: 10_000)).maxAge == 2_147_483_648)
    }

    @Test func invalidIsAbsent() {
        for bad in ["1e400", "-5", "+5", "nan", "inf", "-inf", "1.5", "0x10", "", " ", "5s", "\"\"", "\"5", "٣"] {
            #expect(CacheControl("public, max-age=\(bad)").maxAge == nil, "\(bad)")
        }
        #expect(CacheControl("public").maxAge == nil)
        #expect(CacheControl("max-age").maxAge == nil)
    }

    @Test func quotedCommasDoNotSplit() {
        let cc = CacheControl("private=\"set-cookie, x\", max-age=5, no-cache")
        #expect(cc.directives.map(\.name) == ["private", "max-age", "no-cache"])
        #expect(cc.value(of: "private") == .some("set-cookie, x"))
        #expect(cc.maxAge == 5)
        #expect(cc.has("no-cache"))
        #expect(cc.value(of: "no-cache") == .some(nil))
        #expect(cc.value(of: "absent") == nil)
    }

    @Test func firstMaxAgeWinsAndBadMembersAreSkipped() {
        #expect(CacheControl("max-age=12 , max-age=99").maxAge == 12)
        #expect(CacheControl(",,, ;;; =, max-age=8, \"unterminated").maxAge == 8)
        #expect(CacheControl("s-maxage=3, max-age=4").sharedMaxAge == 3)
        #expect(CacheControl("x=\"a\\\"b\"").value(of: "x") == .some("a\"b"))
    }

    @Test func deltaSeconds() {
        #expect(DeltaSeconds.parse("10") == 10)
        #expect(DeltaSeconds.parse("") == nil)
        #expect(DeltaSeconds.parse("-1") == nil)
        #expect(DeltaSeconds.parse("18446744073709551616") == CacheControl.deltaSecondsLimit)
    }
}
