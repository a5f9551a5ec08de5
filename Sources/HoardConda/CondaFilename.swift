/// A package archive filename, `<name>-<version>-<build>.conda` or `.tar.bz2`.
///
/// Split from the right: version and build never contain `-`, the name may
/// (`ca-certificates-2024.2.2-hbcca054_0.conda`). The accepted byte set,
/// `A-Z a-z 0-9 . _ + ! = ~` plus `-` as separator, covers real conda-forge names
/// (epochs `1!2.0`, local versions `+cpu`, `_libgcc_mutex`) and excludes everything
/// a path trick needs (`/`, `\`, `%`, NUL, controls, spaces); a leading `.` is refused too.
public struct CondaFilename: Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Format: String, Sendable, Hashable, CaseIterable {
        case conda = ".conda"
        case tarBz2 = ".tar.bz2"

        /// The top-level repodata section that lists this format.
        public var repodataSection: String { self == .conda ? "packages.conda" : "packages" }
    }

    public let rawValue: String
    public let name: String
    public let version: String
    public let build: String
    public let format: Format

    /// The filename without its extension: `<name>-<version>-<build>`.
    public var stem: String { "\(name)-\(version)-\(build)" }
    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    public static let maxLength = 255

    public init(_ rawValue: String) throws(CondaNameError) {
        func fail(_ reason: String) -> CondaNameError { .invalidFilename(rawValue, reason: reason) }
        let bytes = Array(rawValue.utf8)
        guard !bytes.isEmpty else { throw fail("it is empty") }
        guard bytes.count <= Self.maxLength else { throw fail("it is longer than \(Self.maxLength) bytes") }
        guard bytes[0] != UInt8(ascii: ".") else { throw fail("it starts with '.'") }
        for b in bytes where !Self.isAllowed(b) {
            throw fail(b < 0x20 || b == 0x7F ? "it contains a control character" : "it contains the character \(Self.describe(b))")
        }
        let stemCount: Int
        let format: Format
        if rawValue.hasSuffix(".conda") {
            format = .conda
            stemCount = bytes.count - 6
        } else if rawValue.hasSuffix(".tar.bz2") {
            format = .tarBz2
            stemCount = bytes.count - 8
        } else {
            throw fail("the extension is neither .conda nor .tar.bz2")
        }
        let stem = bytes[0..<stemCount]
        guard let buildDash = stem.lastIndex(of: UInt8(ascii: "-")) else { throw fail("it has no '-<version>-<build>' part") }
        guard let versionDash = stem[..<buildDash].lastIndex(of: UInt8(ascii: "-")) else { throw fail("it has no '-<version>' part") }
        let name = stem[..<versionDash]
        let version = stem[(versionDash + 1)..<buildDash]
        let build = stem[(buildDash + 1)...]
        guard !name.isEmpty else { throw fail("the package name is empty") }
        guard !version.isEmpty else { throw fail("the version is empty") }
        guard !build.isEmpty else { throw fail("the build string is empty") }
        // A name made only of dashes and dots would be meaningless and is never published.
        guard name.contains(where: ASCII.isAlnum) else { throw fail("the package name has no letter or digit") }
        self.rawValue = rawValue
        self.name = String(decoding: name, as: UTF8.self)
        self.version = String(decoding: version, as: UTF8.self)
        self.build = String(decoding: build, as: UTF8.self)
        self.format = format
    }

    @inline(__always)
    static func isAllowed(_ b: UInt8) -> Bool {
        if ASCII.isAlnum(b) { return true }
        switch b {
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "+"),
             UInt8(ascii: "!"), UInt8(ascii: "="), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func describe(_ b: UInt8) -> String {
        b < 0x80 ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(String(b, radix: 16)) (non-ASCII)"
    }
}
