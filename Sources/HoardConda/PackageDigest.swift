import HoardDigest

/// The integrity facts a repodata record gives about one package file.
/// All are optional: records without them are still listed (clients then verify md5 or nothing).
public struct PackageDigest: Sendable, Hashable {
    public var sha256: BlobDigest?
    public var size: UInt64?
    /// Read only when the whole map is built (the OCI front's manifests carry it as an annotation).
    public var md5: MD5Digest?
    /// The record's `timestamp` as written (milliseconds in modern repodata, seconds in old records).
    public var timestamp: UInt64?

    public init(sha256: BlobDigest? = nil, size: UInt64? = nil, md5: MD5Digest? = nil, timestamp: UInt64? = nil) {
        self.sha256 = sha256
        self.size = size
        self.md5 = md5
        self.timestamp = timestamp
    }

    /// Lowercase 64-digit hex, or nil.
    public var sha256Hex: String? { sha256?.hex }

    /// The timestamp in seconds since 1970: values past year 5138 in seconds are taken as
    /// milliseconds, as conda itself does.
    public var timestampSeconds: Double? {
        timestamp.map { $0 > 100_000_000_000 ? Double($0) / 1000 : Double($0) }
    }
}

/// An MD5 digest held inline (16 bytes), printed as lowercase hex.
public struct MD5Digest: Sendable, Hashable, CustomStringConvertible {
    /// Big-endian halves.
    public let words: (UInt64, UInt64)

    /// From exactly 16 bytes.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 16 else { return nil }
        var words: (UInt64, UInt64) = (0, 0)
        for (k, b) in bytes.enumerated() {
            if k < 8 { words.0 = words.0 << 8 | UInt64(b) } else { words.1 = words.1 << 8 | UInt64(b) }
        }
        self.words = words
    }

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for word in [words.0, words.1] {
            for shift in stride(from: 60, through: 0, by: -4) { out.append(digits[Int((word >> UInt64(shift)) & 0xF)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    public static func == (a: Self, b: Self) -> Bool { a.words == b.words }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
    }
}
