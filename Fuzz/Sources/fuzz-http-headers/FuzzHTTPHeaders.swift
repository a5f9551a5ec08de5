import CLibFuzzer
#if canImport(Glibc)
import Glibc
#endif
import HoardHTTP

/// Range, Content-Range, Cache-Control and HTTP-date parsing: no input may trap, and what the
/// parsers return must be internally consistent (ranges inside the representation, dates that
/// survive a format/parse round trip, max-age within 0...2^31).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let text = String(decoding: bytes, as: UTF8.self)

    // The first 8 bytes (when present) pick the representation size, the rest is the header.
    var size: Int64 = 0
    for b in bytes.prefix(8) { size = size << 8 | Int64(b) }
    for size in [size, 0, 1, 100, Int64.max] {
        for header in [text, String(decoding: bytes.dropFirst(min(8, count)), as: UTF8.self)] {
            let range = ByteRange(header: header, size: size)
            if case .partial(let first, let last) = range {
                precondition(first >= 0 && first <= last && last < max(size, 0), "range \(first)-\(last) outside \(size)")
                precondition(range.length == last - first + 1)
            }
        }
    }

    if let range = try? ContentRange(header: text) {
        precondition(range.start >= 0 && range.start <= range.end && range.length >= 1)
        if let total = range.completeLength { precondition(range.end < total) }
    }

    let cacheControl = CacheControl(text)
    if let maxAge = cacheControl.maxAge { precondition(maxAge >= 0 && maxAge <= CacheControl.deltaSecondsLimit) }
    _ = cacheControl.sharedMaxAge

    if let seconds = HTTPDate.seconds(text) {
        precondition(HTTPDate.seconds(HTTPDate.format(seconds)) == seconds, "date round trip: \(text)")
    }
    if count >= 8 {
        // Any 64-bit pattern as a timestamp (NaN, infinities, huge) formats to a parseable date.
        let bits = bytes.loadUnaligned(as: UInt64.self)
        precondition(HTTPDate.seconds(HTTPDate.format(Double(bitPattern: bits))) != nil)
        precondition(HTTPDate.seconds(HTTPDate.format(Int64(bitPattern: bits))) != nil)
    }
    return 0
}

@main enum FuzzMain {
    static func main() { exit(hoard_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv)) }
}
