#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the top of a repodata document could not be scanned.
public enum RepodataScanError: Error, Sendable, Equatable, CustomStringConvertible {
    case notAnObject
    case unexpectedEnd
    case unexpectedByte(UInt8, offset: Int)
    case invalidEscape(offset: Int)
    case invalidUTF8(offset: Int)
    case infoNotAnObject(offset: Int)
    case tooDeep(offset: Int)

    public var description: String {
        switch self {
        case .notAnObject: return "repodata is not a JSON object"
        case .unexpectedEnd: return "repodata ends in the middle of a JSON value (truncated download?)"
        case .unexpectedByte(let b, let o): return "invalid JSON in repodata: unexpected byte 0x\(String(b, radix: 16)) at offset \(o)"
        case .invalidEscape(let o): return "invalid JSON string escape in repodata at offset \(o)"
        case .invalidUTF8(let o): return "repodata string at offset \(o) is not valid UTF-8"
        case .infoNotAnObject(let o): return "repodata \"info\" at offset \(o) is not a JSON object"
        case .tooDeep(let o): return "repodata nests deeper than \(RepodataInfoScanner.maxDepth) levels at offset \(o)"
        }
    }
}

/// A JSON string found in the document: its decoded value and the byte range of the token,
/// quotes included, so it can be replaced in place.
public struct JSONStringToken: Sendable, Hashable {
    public var value: String
    public var range: Range<Int>
}

/// What the scanner found in the top-level `info` object.
public struct RepodataInfo: Sendable, Hashable {
    /// Byte range of the `info` object (`{` to `}`), nil when the document has no `info`.
    public var infoRange: Range<Int>?
    /// Every string-valued `base_url` in `info` (normally one; duplicates are all reported so a
    /// rewrite cannot leave one behind).
    public var baseURLTokens: [JSONStringToken] = []
    public var shardsBaseURLTokens: [JSONStringToken] = []

    /// The effective value, as a JSON parser keeping the last duplicate would see it.
    public var baseURL: String? { baseURLTokens.last?.value }
    public var shardsBaseURL: String? { shardsBaseURLTokens.last?.value }
}

/// Finds the top-level `"info"` object of a repodata.json without parsing the rest.
///
/// Other top-level values are skipped by matching brackets and strings only (no number or
/// comma validation inside them), and scanning stops right after `info`: conda-forge puts
/// `info` first, so a 300 MB document costs microseconds. Only the bytes up to the end of
/// `info` are validated.
public enum RepodataInfoScanner {
    static let maxDepth = 512

    public static func scan(_ bytes: UnsafeRawBufferPointer) throws(RepodataScanError) -> RepodataInfo {
        var cursor = JSONCursor(bytes)
        return try cursor.scanTopLevel()
    }
}

/// Byte cursor with mutating methods (a struct, not closures over a captured var, to avoid
/// dynamic exclusivity checks in the hot loops).
struct JSONCursor {
    let base: UnsafePointer<UInt8>?
    let count: Int
    var i = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        count = bytes.count
    }

    @inline(__always) func byte(_ at: Int) -> UInt8 { base.unsafelyUnwrapped[at] }

    @inline(__always) mutating func skipWhitespace() {
        while i < count {
            switch byte(i) {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return
            }
        }
    }

    /// Next non-whitespace byte, not consumed.
    @inline(__always) mutating func peek() throws(RepodataScanError) -> UInt8 {
        skipWhitespace()
        guard i < count else { throw .unexpectedEnd }
        return byte(i)
    }

    mutating func expect(_ b: UInt8) throws(RepodataScanError) {
        let got = try peek()
        guard got == b else { throw .unexpectedByte(got, offset: i) }
        i += 1
    }

    mutating func scanTopLevel() throws(RepodataScanError) -> RepodataInfo {
        skipWhitespace()
        guard i < count, byte(i) == UInt8(ascii: "{") else { throw .notAnObject }
        i += 1
        var info = RepodataInfo()
        if try peek() == UInt8(ascii: "}") { return info }
        while true {
            let isInfo = try readKey(equals: "info")
            try expect(UInt8(ascii: ":"))
            if isInfo {
                try scanInfoObject(into: &info)
                return info
            }
            try skipValue()
            let sep = try peek()
            i += 1
            if sep == UInt8(ascii: "}") { return info }
            guard sep == UInt8(ascii: ",") else { throw .unexpectedByte(sep, offset: i - 1) }
        }
    }

    private mutating func scanInfoObject(into info: inout RepodataInfo) throws(RepodataScanError) {
        guard try peek() == UInt8(ascii: "{") else { throw .infoNotAnObject(offset: i) }
        let objectStart = i
        i += 1
        if try peek() == UInt8(ascii: "}") {
            i += 1
            info.infoRange = objectStart..<i
            return
        }
        while true {
            let key = try readString()
            try expect(UInt8(ascii: ":"))
            if (key.value == "base_url" || key.value == "shards_base_url"), try peek() == UInt8(ascii: "\"") {
                let token = try readString()
                if key.value == "base_url" { info.baseURLTokens.append(token) } else { info.shardsBaseURLTokens.append(token) }
            } else {
                try skipValue()
            }
            let sep = try peek()
            i += 1
            if sep == UInt8(ascii: "}") { break }
            guard sep == UInt8(ascii: ",") else { throw .unexpectedByte(sep, offset: i - 1) }
        }
        info.infoRange = objectStart..<i
    }

    /// Reads an object key and compares it to `name` without allocating in the common case.
    private mutating func readKey(equals name: StaticString) throws(RepodataScanError) -> Bool {
        guard try peek() == UInt8(ascii: "\"") else { throw .unexpectedByte(byte(i), offset: i) }
        let start = i + 1
        let end = try skipString()
        let raw = UnsafeBufferPointer(start: base.unsafelyUnwrapped + start, count: end - 1 - start)
        if !raw.contains(UInt8(ascii: "\\")) {
            return raw.elementsEqual(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        }
        // Escaped key: decode it properly (`"\u0069nfo"` is `info`).
        i = start - 1
        return try readString().value == name.description
    }

    /// Skips a string starting at `i` (which must be `"`); returns the index after the closing quote.
    @discardableResult
    mutating func skipString() throws(RepodataScanError) -> Int {
        i += 1
        while true {
            // memchr is far faster than a Swift byte loop over long strings.
            guard i < count, let q = memchrQuote(from: i) else { i = count; throw .unexpectedEnd }
            var backslashes = 0
            var j = q - 1
            while j >= i, byte(j) == UInt8(ascii: "\\") { backslashes += 1; j -= 1 }
            i = q + 1
            if backslashes & 1 == 0 { return i }
        }
    }

    @inline(__always) private func memchrQuote(from: Int) -> Int? {
        let p = base.unsafelyUnwrapped + from
        guard let hit = memchr(p, Int32(UInt8(ascii: "\"")), count - from) else { return nil }
        return from + (UnsafeRawPointer(hit) - UnsafeRawPointer(p))
    }

    /// Skips any JSON value. Containers are skipped by bracket matching with strings honoured.
    mutating func skipValue() throws(RepodataScanError) {
        let b = try peek()
        switch b {
        case UInt8(ascii: "\""):
            try skipString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            try skipContainer()
        default:
            try skipScalar()
        }
    }

    private mutating func skipScalar() throws(RepodataScanError) {
        let start = i
        while i < count {
            let b = byte(i)
            let isScalarByte = ASCII.isAlnum(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "+") || b == UInt8(ascii: ".")
            if !isScalarByte { break }
            i += 1
        }
        guard i > start else { throw .unexpectedByte(byte(start), offset: start) }
        let token = UnsafeBufferPointer(start: base.unsafelyUnwrapped + start, count: i - start)
        let first = token[0]
        if first == UInt8(ascii: "-") || (first >= 0x30 && first <= 0x39) {
            // A number: digits, sign, dot and exponent only.
            for (k, c) in token.enumerated() {
                let ok = (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+")
                    || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
                if !ok { throw .unexpectedByte(c, offset: start + k) }
            }
            return
        }
        if token.elementsEqual("true".utf8) || token.elementsEqual("false".utf8) || token.elementsEqual("null".utf8) { return }
        throw .unexpectedByte(first, offset: start)
    }

    private mutating func skipContainer() throws(RepodataScanError) {
        // Closing bracket expected at each depth; a fixed stack avoids allocation.
        var stack = [UInt8]()
        stack.reserveCapacity(16)
        while i < count {
            let b = byte(i)
            switch b {
            case UInt8(ascii: "\""):
                try skipString()
                continue
            case UInt8(ascii: "{"):
                guard stack.count < RepodataInfoScanner.maxDepth else { throw .tooDeep(offset: i) }
                stack.append(UInt8(ascii: "}"))
            case UInt8(ascii: "["):
                guard stack.count < RepodataInfoScanner.maxDepth else { throw .tooDeep(offset: i) }
                stack.append(UInt8(ascii: "]"))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard stack.last == b else { throw .unexpectedByte(b, offset: i) }
                stack.removeLast()
                if stack.isEmpty { i += 1; return }
            default:
                break
            }
            i += 1
        }
        throw .unexpectedEnd
    }

    /// Reads and decodes a string token at `i`.
    mutating func readString() throws(RepodataScanError) -> JSONStringToken {
        guard try peek() == UInt8(ascii: "\"") else { throw .unexpectedByte(byte(i), offset: i) }
        let tokenStart = i
        var out: [UInt8] = []
        i += 1
        while true {
            guard i < count else { throw .unexpectedEnd }
            let b = byte(i)
            if b == UInt8(ascii: "\"") {
                i += 1
                break
            }
            if b < 0x20 { throw .unexpectedByte(b, offset: i) }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                i += 1
                continue
            }
            guard i + 1 < count else { throw .unexpectedEnd }
            let e = byte(i + 1)
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                let escapeStart = i
                i += 2
                var scalar = try readHex4(escapeStart)
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // High surrogate: a low surrogate escape must follow.
                    guard i + 1 < count, byte(i) == UInt8(ascii: "\\"), byte(i + 1) == UInt8(ascii: "u") else {
                        throw .invalidEscape(offset: escapeStart)
                    }
                    i += 2
                    let low = try readHex4(escapeStart)
                    guard low >= 0xDC00 && low < 0xE000 else { throw .invalidEscape(offset: escapeStart) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw .invalidEscape(offset: escapeStart)
                }
                guard let u = Unicode.Scalar(scalar) else { throw .invalidEscape(offset: escapeStart) }
                out.append(contentsOf: String(Character(u)).utf8)
                continue
            default:
                throw .invalidEscape(offset: i)
            }
            i += 2
        }
        guard let value = String(validating: out, as: UTF8.self) else { throw .invalidUTF8(offset: tokenStart) }
        return JSONStringToken(value: value, range: tokenStart..<i)
    }

    private mutating func readHex4(_ escapeStart: Int) throws(RepodataScanError) -> UInt32 {
        guard i + 4 <= count else { throw .unexpectedEnd }
        var v: UInt32 = 0
        for k in 0..<4 {
            guard let h = ASCII.hexValue(byte(i + k)) else { throw .invalidEscape(offset: escapeStart) }
            v = v << 4 | UInt32(h)
        }
        i += 4
        return v
    }
}
