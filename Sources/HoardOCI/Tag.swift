/// A tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
public struct Tag: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let maxLength = 128
    public let value: String

    public init(_ text: String) throws(TagError) {
        guard let first = text.utf8.first else { throw .invalid(text, "tag is empty") }
        guard text.utf8.count <= Self.maxLength else {
            throw .invalid(text, "tag is \(text.utf8.count) characters long; the limit is \(Self.maxLength)")
        }
        guard Self.isWordByte(first) else {
            throw .invalid(text, "a tag must start with a letter, digit or \"_\"")
        }
        guard text.utf8.allSatisfy({ Self.isWordByte($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }) else {
            throw .invalid(text, "a tag may only contain letters, digits, \"_\", \".\" and \"-\"")
        }
        value = text
    }

    public static func isValid(_ text: String) -> Bool { (try? Tag(text)) != nil }

    static func isWordByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
    }

    public var description: String { value }
    public static func < (a: Tag, b: Tag) -> Bool { a.value < b.value }
}

public enum TagError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalid(String, String)

    public var message: String {
        switch self {
        case .invalid(let s, let why): "invalid tag \"\(s)\": \(why)"
        }
    }

    public var description: String { message }
    /// The spec has no TAG_INVALID; a bad tag in a manifest PUT is a bad manifest reference.
    public var ociError: OCIError { OCIError(.manifestInvalid, message) }
}

