/// A conda channel name as it appears in the first path segment (`conda-forge`, `bioconda`).
public struct ChannelName: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) throws(CondaNameError) {
        guard isChannelToken(rawValue) else { throw .invalidChannel(rawValue) }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A channel label (`/<channel>/label/<label>/...`); same grammar as a channel name.
public struct Label: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) throws(CondaNameError) {
        guard isChannelToken(rawValue) else { throw .invalidLabel(rawValue) }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}
