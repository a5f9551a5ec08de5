/// The sha256 of a blob's bytes: the one digest type of hoard. It names a blob in the store, a package
/// in repodata and a shard index, and the sha256 form of an OCI digest.
///
/// Held inline (32 bytes, no heap allocation: repodata of 500k records keeps one per record);
/// printed as `sha256:<64 lowercase hex>`, as OCI spells digests.
public struct BlobDigest: Sendable, Hashable, Comparable, CustomStringConvertible {
    // Big-endian words, so comparison orders like the hex string.
    public let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// From exactly 32 bytes.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 32 else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var k = 0
        for b in bytes {
            let shift = UInt64(56 - (k & 7) * 8)
            switch k >> 3 {
            case 0: words.0 |= UInt64(b) << shift
            case 1: words.1 |= UInt64(b) << shift
            case 2: words.2 |= UInt64(b) << shift
            default: words.3 |= UInt64(b) << shift
            }
            k += 1
        }
        (w0, w1, w2, w3) = words
    }

    /// From 64 hex digits, either case (repodata in the wild has both).
    public init?(hex: some StringProtocol) {
        var s = String(hex)
        guard let d = s.withUTF8({ Self(hexUTF8: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = d
    }

    /// From 64 hex digits in a raw buffer (simdjson output, without making a String).
    public init?(hexUTF8 p: UnsafeRawBufferPointer, lowercaseOnly: Bool = false) {
        guard p.count == 64 else { return nil }
        func word(_ start: Int) -> UInt64? {
            var w: UInt64 = 0
            for k in start..<(start + 16) {
                guard let h = HexDigit.value(p[k], lowercaseOnly: lowercaseOnly) else { return nil }
                w = w << 4 | UInt64(h)
            }
            return w
        }
        guard let a = word(0), let b = word(16), let c = word(32), let d = word(48) else { return nil }
        (w0, w1, w2, w3) = (a, b, c, d)
    }

    /// The one spelling used as a key (store, OCI): `<64 lowercase hex>` or `sha256:<64 lowercase
    /// hex>`. Anything else is nil, so a digest has exactly one name on disk and on the wire.
    public init?(canonical text: some StringProtocol) {
        var s = String(text)
        if s.hasPrefix("sha256:") { s.removeFirst(7) }
        guard let d = s.withUTF8({ Self(hexUTF8: UnsafeRawBufferPointer($0), lowercaseOnly: true) }) else { return nil }
        self = d
    }

    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] {
            for k in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(k))) }
        }
        return out
    }

    /// The 64 lowercase hex characters.
    public var hex: String {
        String(unsafeUninitializedCapacity: 64) { buf in
            var n = 0
            for w in [w0, w1, w2, w3] {
                for k in stride(from: 60, through: 0, by: -4) {
                    buf[n] = HexDigit.digits[Int((w >> UInt64(k)) & 0xF)]
                    n += 1
                }
            }
            return 64
        }
    }

    /// The two-character fan-out directory name of the blob layout.
    public var prefix: String { String(hex.prefix(2)) }

    public var description: String { "sha256:" + hex }

    public static func < (a: Self, b: Self) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }
}

enum HexDigit {
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    @inline(__always) static func value(_ b: UInt8, lowercaseOnly: Bool) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x61...0x66: return b - 0x61 + 10
        case 0x41...0x46 where !lowercaseOnly: return b - 0x41 + 10
        default: return nil
        }
    }
}
