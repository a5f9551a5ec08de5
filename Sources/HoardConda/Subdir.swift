/// A conda platform subdirectory: `noarch` or `<os>-<arch>` (`linux-64`, `osx-arm64`, `emscripten-wasm32`).
public struct Subdir: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public static let noarch = Subdir(unchecked: "noarch")

    public init(_ rawValue: String) throws(CondaNameError) {
        guard Self.isValid(rawValue) else { throw .invalidSubdir(rawValue) }
        self.rawValue = rawValue
    }

    private init(unchecked: String) { rawValue = unchecked }

    public var isNoarch: Bool { rawValue == "noarch" }
    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// `noarch` or `^[a-z0-9]+-[a-z0-9]+$` (exactly one dash), at most 64 bytes.
    static func isValid(_ s: String) -> Bool {
        if s == "noarch" { return true }
        let utf8 = s.utf8
        guard utf8.count <= 64 else { return false }
        var dashes = 0
        var runLength = 0
        for b in utf8 {
            if b == UInt8(ascii: "-") {
                guard runLength > 0 else { return false }
                dashes += 1
                runLength = 0
            } else if ASCII.isLowerAlnum(b) {
                runLength += 1
            } else {
                return false
            }
        }
        return dashes == 1 && runLength > 0
    }
}
