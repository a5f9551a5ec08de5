import Foundation
import HoardS3Wire
import Testing

/// Numbers, timestamps and XML documents from S3 answers, read with checked conversions.
struct S3WireTests {
    @Test func numbersAndDatesFromTheNetworkAreChecked() {
        #expect(S3Number.nonNegative("1234") == 1234)
        #expect(S3Number.nonNegative("9223372036854775807") == Int64.max)
        #expect(S3Number.nonNegative("9223372036854775808") == nil)
        #expect(S3Number.nonNegative("-1") == nil)
        #expect(S3Number.nonNegative("+1") == nil)
        #expect(S3Number.nonNegative("") == nil)
        #expect(S3Number.nonNegative("1e3") == nil)
        #expect(UTCTime.parseISO8601("2015-08-30T12:36:00.000Z") == Date(timeIntervalSince1970: 1_440_938_160))
        #expect(UTCTime.parseISO8601("2015-08-30T12:36:00Z") == Date(timeIntervalSince1970: 1_440_938_160))
        #expect(UTCTime.parseISO8601("2015-13-30T12:36:00Z") == nil)
        #expect(UTCTime.parseISO8601("99999-08-30T12:36:00Z") == nil)
        #expect(UTCTime.parseISO8601("2015-08-30T12:36:00.0000000000000000000000Z") == nil)
        #expect(UTCTime.parseISO8601("garbage") == nil)
    }

    @Test func xmlAnswersDecode() {
        let listing = Array("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix>\
            <KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>\
            <NextContinuationToken>tok/en==</NextContinuationToken>\
            <Contents><Key>p/a</Key><LastModified>2015-08-30T12:36:00.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>5</Size></Contents>\
            <Contents><Key>p/b</Key><Size>99999999999999999999</Size></Contents></ListBucketResult>
            """.utf8)
        let page = S3XML.decode(ListBucketResult.self, listing)
        #expect(page?.contents?.count == 2)
        #expect(page?.contents?.first?.etag == "\"abc\"")
        #expect(page?.nextContinuationToken == "tok/en==")
        #expect(S3XML.isTrue(page?.isTruncated))
        // The oversized size stays text; the client refuses it with a checked conversion.
        #expect(page?.contents?.last?.size.flatMap(S3Number.nonNegative) == nil)

        let error = Array("<?xml version=\"1.0\"?>\n<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>".utf8)
        #expect(S3XML.rootElement(error) == "Error")
        #expect(S3XML.decode(S3ErrorBody.self, error)?.code == "PreconditionFailed")
        #expect(S3XML.rootElement(listing) == "ListBucketResult")
    }
}

/// Answers a broken or hostile S3-compatible server could send: decoded to nothing (an unreadable
/// answer, which the client reports), never a crash or a runaway allocation.
@Suite struct S3HostileXMLTests {
    @Test func deeplyNestedElementsDecodeToNothing() {
        let depth = 100_000
        let xml = "<ListBucketResult>" + String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth) + "</ListBucketResult>"
        #expect(xml.utf8.count < 8 << 20)  // within what the client reads of an answer (S3Client.xmlLimit)
        // Took the whole process down with a stack overflow inside XMLCoder before the check.
        #expect(S3XML.decode(ListBucketResult.self, Array(xml.utf8)) == nil)
        #expect(!S3XML.isPlainDocument(Array(xml.utf8)))
    }

    /// Inputs that crashed the test process inside FoundationXML (found by mutating real answers).
    @Test func inputsThatCrashedTheXMLParserDecodeToNothing() {
        // A name that is not UTF-8: a trap in _NSXMLParserStartElementNs.
        let notUTF8: [UInt8] = Array("<?xml version=\"1.0\"?>\n<Error><".utf8) + [0xD0] + Array("ode>P</Code><Message>m</Message></Error>".utf8)
        #expect(S3XML.decode(S3ErrorBody.self, notUTF8) == nil)
        // A processing instruction without data: strlen(NULL).
        let bareInstruction = Array("<?xm?>><CodeXPreconditioxnFailed</Code>\n<Error><Col version=\"1.0\"?>><Code>P</Code>".utf8)
        #expect(S3XML.decode(S3ErrorBody.self, bareInstruction) == nil)
        // The same inside a broken tag, found by the fuzzer (libxml2 recovers and reads it).
        let insideATag = Array("<InitiateMultipart2015-08-<?xm?>><Code>P</Code>\n<Error><Col v=\"1.0\"?>><UploadId>u</UploadId>".utf8)
        #expect(S3XML.decode(InitiateMultipartUploadResult.self, insideATag) == nil)
    }

    @Test func onlyWhatS3SendsIsHandedToTheParser() {
        func plain(_ text: String) -> Bool { S3XML.isPlainDocument(Array(text.utf8)) }
        let nested = { (depth: Int) in String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth) }
        #expect(plain("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult a=\"x>y\"><Contents><Owner><ID>i</ID><E/></Owner></Contents></ListBucketResult>"))
        #expect(plain(nested(S3XML.maximumDepth)))
        #expect(!plain(nested(S3XML.maximumDepth + 1)))
        // Siblings do not add up; self-closing elements open nothing.
        #expect(plain(String(repeating: "<a></a>", count: 1000) + String(repeating: "<b/>", count: 1000)))
        // The XML declaration only first; no other instruction, document type, comment or CDATA.
        #expect(!plain("<a/><?xml version=\"1.0\"?>"))
        #expect(!plain("<?php x?><a/>"))
        #expect(!plain("<!DOCTYPE a><a/>"))
        #expect(!plain("<a><!-- c --></a>"))
        #expect(!plain("<a><![CDATA[x]]></a>"))
        #expect(!plain("<a b=\"<?x?>\"/>"))
        // A quote in a tag name cannot hide the tags after it from the depth count.
        #expect(!plain("<a\"" + nested(S3XML.maximumDepth + 1) + "\">"))
        #expect(!plain("<a b=\"<c>\"/>"))
        // Real answers still decode, the declaration and entities included.
        let listing = Array("<?xml version=\"1.0\"?>\n<ListBucketResult><Contents><Key>k&amp;</Key><Size>1</Size><Owner><ID>o</ID></Owner></Contents></ListBucketResult>".utf8)
        #expect(S3XML.decode(ListBucketResult.self, listing)?.contents?.first?.key == "k&")
    }

    @Test func entityExpansionIsNotFollowed() {
        var xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lollollollollollollollollollol\">\n"
        xml += "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        for level in 2...9 {
            xml += "<!ENTITY lol\(level) \"" + String(repeating: "&lol\(level - 1);", count: 10) + "\">\n"
        }
        xml += "]>\n<Error><Code>&lol9;</Code><Message>x</Message></Error>"
        let body = S3XML.decode(S3ErrorBody.self, Array(xml.utf8))
        // At most the text as written, never 10^9 copies of it.
        #expect((body?.code?.utf8.count ?? 0) < 1 << 20)
    }

    @Test func garbageAndTruncatedAnswersDecodeToNothing() {
        let listing = "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>a</Key><Size>5</Size></Contents></ListBucketResult>"
        for cut in stride(from: 0, to: listing.utf8.count, by: 7) {
            _ = S3XML.decode(ListBucketResult.self, Array(listing.utf8.prefix(cut)))
            _ = S3XML.rootElement(Array(listing.utf8.prefix(cut)))
        }
        #expect(S3XML.decode(ListBucketResult.self, Array("\u{0}\u{ff}<<<>>>".utf8)) == nil)
        #expect(S3XML.rootElement([UInt8(ascii: "<")]) == nil)
    }
}
