/// The one percent-decoder and -encoder (RFC 3986 §2.1), for URL path segments and query
/// components of both fronts and for what hoard sends upstream.
///
/// Decoding is strict: every `%` must be followed by two hex digits (no lenient pass-through of a
/// stray `%`), `+` stays `+` (media types such as `application/vnd.oci.image.manifest.v1+json`
/// contain it; only HTML forms mean a space by it), and a text result must be valid UTF-8.
/// Callers decode each segment once, after splitting, so an encoded `/` can never act as one.
public enum PercentEncoding {
    public enum DecodingError: Error, Equatable, Sendable, CustomStringConvertible {
        /// A `%` not followed by two hex digits.
        case invalidEscape
        /// The decoded bytes are not UTF-8.
        case invalidUTF8

        public var description: String {
            switch self {
            case .invalidEscape: "'%' must be followed by two hex digits"
            case .invalidUTF8: "the percent-decoded bytes are not UTF-8"
            }
        }
    }

    /// The decoded bytes of `raw` (any bytes, UTF-8 or not).
    public static func decodeBytes<C: Collection>(_ raw: C) throws(DecodingError) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = raw.startIndex
        while i != raw.endIndex {
            let b = raw[i]
            i = raw.index(after: i)
            guard b == UInt8(ascii: "%") else { out.append(b); continue }
            guard i != raw.endIndex, let high = hexValue(raw[i]) else { throw .invalidEscape }
            i = raw.index(after: i)
            guard i != raw.endIndex, let low = hexValue(raw[i]) else { throw .invalidEscape }
            i = raw.index(after: i)
            out.append(high << 4 | low)
        }
        return out
    }

    /// The decoded text of `text`.
    public static func decode<S: StringProtocol>(_ text: S) throws(DecodingError) -> String {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        let bytes = try decodeBytes(text.utf8)
        guard let decoded = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8 }
        return decoded
    }

    /// The decoded text, or nil when `text` is not strictly percent-encoded UTF-8.
    public static func decoded<S: StringProtocol>(_ text: S) -> String? {
        try? decode(text)
    }

    /// Encodes every byte except RFC 3986 unreserved characters (ASCII letters, digits, `-._~`)
    /// and `extra` (e.g. `/` for a path). Non-ASCII text is encoded byte by byte as UTF-8.
    public static func encode(_ text: String, keeping extra: Set<UInt8> = []) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for b in text.utf8 {
            if isUnreserved(b) || extra.contains(b) {
                out.append(b)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xf)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func isUnreserved(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "~")
        }
    }

    public static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
