import CLibFuzzer
#if canImport(Glibc)
import Glibc
#endif
import HoardS3Wire

/// S3's answers (listings, errors, multipart results) and the numbers and timestamps in them, as
/// a broken or hostile S3-compatible server could send them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    if let page = S3XML.decode(ListBucketResult.self, bytes) {
        for item in page.contents ?? [] {
            _ = item.size.flatMap(S3Number.nonNegative)
            _ = item.lastModified.flatMap(UTCTime.parseISO8601)
        }
        _ = S3XML.isTrue(page.isTruncated)
    }
    if let uploads = S3XML.decode(ListMultipartUploadsResult.self, bytes) {
        for upload in uploads.uploads ?? [] { _ = upload.initiated.flatMap(UTCTime.parseISO8601) }
    }
    // The other answers (InitiateMultipartUploadResult, ETagResult) are flat structs of strings
    // like this one: one of them is enough, as every decode parses the bytes again.
    _ = S3XML.decode(S3ErrorBody.self, bytes)
    _ = S3XML.rootElement(bytes)
    let text = String(decoding: bytes, as: UTF8.self)
    _ = S3Number.nonNegative(text)
    if let date = UTCTime.parseISO8601(text) { _ = UTCTime.components(date) }
    // Printable ASCII escaped for a request (a region, an ETag) decodes back to itself
    // (whitespace is left out: the decoder trims it).
    if !text.isEmpty, text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
        let back = S3XML.decode(S3ErrorBody.self, Array("<Error><Code>\(S3XML.escape(text))</Code></Error>".utf8))
        precondition(back?.code == text, "escape round trip: \(text) came back as \(String(describing: back?.code))")
    }
    return 0
}

@main enum FuzzMain {
    static func main() { exit(hoard_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv)) }
}
