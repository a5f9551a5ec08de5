import Crypto
import Foundation

/// A content digest as used on the OCI wire: `sha256:<64 hex>` or `sha512:<128 hex>`.
///
/// Only the two registered hex algorithms are accepted, and only lowercase hex, so a digest has
/// exactly one spelling and can be used as a storage key without normalisation.
public struct OCIDigest: Hashable, Comparable, Sendable, CustomStringConvertible {
    public enum Algorithm: String, Sendable, CaseIterable {
        case sha256
        case sha512

        /// Length of the hex-encoded hash.
        public var hexLength: Int {
            switch self {
            case .sha256: 64
            case .sha512: 128
            }
        }
    }

    public let algorithm: Algorithm
    /// Lowercase hex of the hash (the spec's "encoded" part).
    public let hex: String

    /// Parses `algorithm:hex`. Throws `OCIDigestError`, which maps to 400 `DIGEST_INVALID`.
    public init(parsing text: String) throws(OCIDigestError) {
        guard let colon = text.utf8.firstIndex(of: UInt8(ascii: ":")) else {
            throw .missingAlgorithm(text)
        }
        let algorithmPart = String(text[..<colon])
        let encoded = String(text[text.index(after: colon)...])
        // Check the generic grammar first so the message can tell "malformed" from "unsupported".
        guard Self.isValidAlgorithmGrammar(algorithmPart), Self.isValidEncodedGrammar(encoded) else {
            throw .malformed(text)
        }
        guard let algorithm = Algorithm(rawValue: algorithmPart) else {
            throw .unsupportedAlgorithm(algorithmPart)
        }
        guard encoded.utf8.count == algorithm.hexLength else {
            throw .wrongLength(text, expected: algorithm.hexLength)
        }
        guard encoded.utf8.allSatisfy(Self.isLowerHex) else {
            throw .notLowercaseHex(text)
        }
        self.algorithm = algorithm
        self.hex = encoded
    }

    /// Builds a digest from raw hash bytes.
    public init(algorithm: Algorithm, hashBytes: some Sequence<UInt8>) {
        self.algorithm = algorithm
        self.hex = hashBytes.hexString
    }

    /// Hashes `bytes` in one go.
    public static func compute(_ algorithm: Algorithm = .sha256, of bytes: some DataProtocol) -> OCIDigest {
        var hasher = DigestHasher(algorithm)
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// sha256 of the empty string; the config blob of conda-oci-mirror manifests.
    public static let emptySHA256 = try! OCIDigest(
        parsing: "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

    public var description: String { "\(algorithm.rawValue):\(hex)" }
    public var string: String { description }

    /// True when `bytes` hash to this digest.
    public func matches(_ bytes: some DataProtocol) -> Bool {
        OCIDigest.compute(algorithm, of: bytes) == self
    }

    public static func < (lhs: OCIDigest, rhs: OCIDigest) -> Bool { lhs.description < rhs.description }

    // Grammar of image-spec descriptor.md: algorithm-component (separator component)*, [+._-].
    static func isValidAlgorithmGrammar(_ s: String) -> Bool {
        var previousWasSeparator = true  // also rejects a leading separator
        for byte in s.utf8 {
            if isLowerAlnum(byte) {
                previousWasSeparator = false
            } else if byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            {
                if previousWasSeparator { return false }
                previousWasSeparator = true
            } else {
                return false
            }
        }
        return !s.isEmpty && !previousWasSeparator
    }

    static func isValidEncodedGrammar(_ s: String) -> Bool {
        !s.isEmpty
            && s.utf8.allSatisfy { b in
                isLowerAlnum(b) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
                    || b == UInt8(ascii: "=") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
            }
    }

    static func isLowerHex(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f"))
    }

    static func isLowerAlnum(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
    }
}

extension OCIDigest: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Why a digest string was rejected. Every case maps to 400 `DIGEST_INVALID`.
public enum OCIDigestError: Error, Equatable, Sendable, CustomStringConvertible {
    case missingAlgorithm(String)
    case malformed(String)
    case unsupportedAlgorithm(String)
    case wrongLength(String, expected: Int)
    case notLowercaseHex(String)

    public var message: String {
        switch self {
        case .missingAlgorithm(let s):
            "digest \"\(s)\" has no algorithm; expected sha256:<64 lowercase hex> or sha512:<128 lowercase hex>"
        case .malformed(let s):
            "digest \"\(s)\" does not match the digest grammar algorithm:encoded"
        case .unsupportedAlgorithm(let a):
            "digest algorithm \"\(a)\" is not supported; use sha256 or sha512"
        case .wrongLength(let s, let n):
            "digest \"\(s)\" must have exactly \(n) hex characters after the colon"
        case .notLowercaseHex(let s):
            "digest \"\(s)\" must use lowercase hex characters only"
        }
    }

    public var description: String { message }

    public var ociError: OCIError { OCIError(.digestInvalid, message) }
}

/// Incremental digest computation (feed chunks as they arrive, then `finalize`).
public struct DigestHasher: Sendable {
    private enum State: Sendable {
        case sha256(SHA256)
        case sha512(SHA512)
    }

    private var state: State
    public let algorithm: OCIDigest.Algorithm
    /// Number of bytes fed so far; handy for size checks alongside the digest.
    public private(set) var byteCount: Int64 = 0

    public init(_ algorithm: OCIDigest.Algorithm = .sha256) {
        self.algorithm = algorithm
        switch algorithm {
        case .sha256: state = .sha256(SHA256())
        case .sha512: state = .sha512(SHA512())
        }
    }

    public mutating func update(_ bytes: some DataProtocol) {
        byteCount += Int64(bytes.count)
        switch state {
        case .sha256(var h):
            h.update(data: bytes)
            state = .sha256(h)
        case .sha512(var h):
            h.update(data: bytes)
            state = .sha512(h)
        }
    }

    public mutating func update(bufferPointer: UnsafeRawBufferPointer) {
        byteCount += Int64(bufferPointer.count)
        switch state {
        case .sha256(var h):
            h.update(bufferPointer: bufferPointer)
            state = .sha256(h)
        case .sha512(var h):
            h.update(bufferPointer: bufferPointer)
            state = .sha512(h)
        }
    }

    /// The digest of everything fed so far. The hasher itself is left untouched (value type).
    public func finalize() -> OCIDigest {
        switch state {
        case .sha256(let h): OCIDigest(algorithm: .sha256, hashBytes: h.finalize())
        case .sha512(let h): OCIDigest(algorithm: .sha512, hashBytes: h.finalize())
        }
    }
}

extension Sequence<UInt8> {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
