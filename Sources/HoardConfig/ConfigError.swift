/// A configuration file that cannot be used, with the file, line and key to fix.
public enum ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case syntax(path: String, line: Int, column: Int, message: String)
    case unknownKey(path: String, line: Int?, key: String, known: [String])
    case invalidValue(path: String, line: Int?, key: String, expected: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read config file \(path): \(reason)"
        case .syntax(let path, let line, let column, let message):
            return "\(path):\(line):\(column): invalid TOML: \(message)"
        case .unknownKey(let path, let line, let key, let known):
            return "\(Self.location(path, line)): unknown key '\(key)'; known keys here: \(known.joined(separator: ", "))"
        case .invalidValue(let path, let line, let key, let expected):
            return "\(Self.location(path, line)): '\(key)' must be \(expected)"
        }
    }

    private static func location(_ path: String, _ line: Int?) -> String {
        line.map { "\(path):\($0)" } ?? path
    }
}
