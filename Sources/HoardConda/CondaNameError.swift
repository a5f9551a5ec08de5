/// Why a channel, label, subdir or package filename was refused.
public enum CondaNameError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidChannel(String)
    case invalidLabel(String)
    case invalidSubdir(String)
    case invalidFilename(String, reason: String)

    public var description: String {
        switch self {
        case .invalidChannel(let s):
            return "invalid channel name \(s.debugDescription): use 1-128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit"
        case .invalidLabel(let s):
            return "invalid label \(s.debugDescription): use 1-128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit"
        case .invalidSubdir(let s):
            return "invalid subdir \(s.debugDescription): expected 'noarch' or '<os>-<arch>' in lowercase letters and digits (e.g. linux-64)"
        case .invalidFilename(let s, let reason):
            return "invalid package filename \(s.debugDescription): \(reason); expected <name>-<version>-<build>.conda or .tar.bz2"
        }
    }
}

/// The grammar shared by channel names and labels: `[A-Za-z0-9][A-Za-z0-9._-]*`, at most 128 bytes.
/// Because the first byte must be alphanumeric, `.` and `..` can never match.
func isChannelToken(_ s: String) -> Bool {
    let utf8 = s.utf8
    guard let first = utf8.first, utf8.count <= 128, ASCII.isAlnum(first) else { return false }
    return utf8.allSatisfy { b in
        ASCII.isAlnum(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
    }
}

enum ASCII {
    @inline(__always) static func isAlnum(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }
    @inline(__always) static func isLowerAlnum(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7A)
    }
    @inline(__always) static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x61...0x66: return b - 0x61 + 10
        case 0x41...0x46: return b - 0x41 + 10
        default: return nil
        }
    }
    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
