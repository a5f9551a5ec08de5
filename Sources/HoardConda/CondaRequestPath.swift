import HoardHTTP

/// Why a request path is not a conda channel path. `httpStatus` says how to answer.
public enum CondaPathError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path is not absolute (does not start with `/`).
    case notAbsolute
    /// A `%` not followed by two hex digits.
    case invalidPercentEncoding(segment: String)
    /// A segment decodes to something that is not UTF-8.
    case invalidUTF8(segment: String)
    /// NUL, a control character, a backslash or an encoded `/` inside a segment.
    case forbiddenCharacter(segment: String)
    /// `.` or `..` (also when percent-encoded).
    case dotSegment
    /// `//` or a trailing `/`.
    case emptySegment
    /// Well-formed, but no conda file lives at this path.
    case unknownPath(String)
    /// Well-formed, but a channel, label, subdir or filename does not follow conda's grammar.
    case invalidName(CondaNameError)

    /// 400 for malformed input (encoding and traversal tricks), 404 for anything merely unknown.
    public var httpStatus: Int {
        switch self {
        case .notAbsolute, .invalidPercentEncoding, .invalidUTF8, .forbiddenCharacter, .dotSegment, .emptySegment:
            return 400
        case .unknownPath, .invalidName:
            return 404
        }
    }

    public var isMalformed: Bool { httpStatus == 400 }

    public var description: String {
        switch self {
        case .notAbsolute: return "request path must start with '/'"
        case .invalidPercentEncoding(let s): return "invalid percent-encoding in path segment \(s.debugDescription): '%' must be followed by two hex digits"
        case .invalidUTF8(let s): return "path segment \(s.debugDescription) does not decode to UTF-8"
        case .forbiddenCharacter(let s): return "path segment \(s.debugDescription) contains NUL, a control character, a backslash or an encoded '/'"
        case .dotSegment: return "path segments '.' and '..' are not allowed"
        case .emptySegment: return "empty path segment ('//' or a trailing '/')"
        case .unknownPath(let p): return "no conda channel file at \(p.debugDescription); expected /<channel>[/label/<label>]/<subdir>/<file> or /<channel>/channeldata.json"
        case .invalidName(let e): return e.description
        }
    }
}

/// A parsed conda channel request: `/<channel>[/label/<label>]/<subdir>/<file>` or
/// `/<channel>[/label/<label>]/channeldata.json`. Parsing never touches the disk.
public struct CondaRequestPath: Sendable, Hashable, CustomStringConvertible {
    public enum RepodataVariant: String, Sendable, Hashable, CaseIterable {
        case json = "repodata.json"
        case jsonZst = "repodata.json.zst"
        case jsonBz2 = "repodata.json.bz2"
        case currentJson = "current_repodata.json"
    }

    /// A file inside a subdir.
    public enum SubdirFile: Sendable, Hashable {
        case repodata(RepodataVariant)
        /// `repodata_shards.msgpack.zst` (CEP-16).
        case shardIndex
        /// `shards/<sha256Hex>.msgpack.zst` (where hoard's served indexes put shards), or
        /// `<sha256Hex>.msgpack.zst` beside the index (conda-index's layout, which indexes
        /// served by earlier hoard versions may still name); the hex is 64 lowercase digits.
        case shard(sha256Hex: String)
        case package(CondaFilename)
    }

    public enum File: Sendable, Hashable {
        case channeldata
        case subdir(Subdir, SubdirFile)
    }

    public static let shardIndexFilename = "repodata_shards.msgpack.zst"
    public static let shardsDirectory = "shards"
    public static let shardSuffix = ".msgpack.zst"

    public let channel: ChannelName
    public let label: Label?
    public let file: File

    public init(channel: ChannelName, label: Label? = nil, file: File) {
        self.channel = channel
        self.label = label
        self.file = file
    }

    public var subdir: Subdir? {
        if case .subdir(let s, _) = file { return s }
        return nil
    }

    /// The canonical (unencoded) path, e.g. `/conda-forge/linux-64/repodata.json`.
    public var description: String {
        var p = "/" + channel.rawValue
        if let label { p += "/label/" + label.rawValue }
        switch file {
        case .channeldata:
            p += "/channeldata.json"
        case .subdir(let subdir, let f):
            p += "/" + subdir.rawValue + "/"
            switch f {
            case .repodata(let v): p += v.rawValue
            case .shardIndex: p += Self.shardIndexFilename
            case .shard(let hex): p += Self.shardsDirectory + "/" + hex + Self.shardSuffix
            case .package(let fn): p += fn.rawValue
            }
        }
        return p
    }

    /// Parses a raw, still percent-encoded request path without query string.
    /// Each segment is decoded exactly once, after splitting on `/`, so `%2F` can never create a
    /// segment and `%2e%2e` is caught as `..`.
    public static func parse(rawPath: String) throws(CondaPathError) -> CondaRequestPath {
        let raw = Array(rawPath.utf8)
        guard raw.first == UInt8(ascii: "/") else { throw .notAbsolute }
        if raw.count == 1 { throw .unknownPath(rawPath) }
        var segments: [String] = []
        segments.reserveCapacity(6)
        for rawSegment in raw[1...].split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            segments.append(try decodeSegment(rawSegment))
        }
        // Refuse absurdly deep paths before any further work.
        guard segments.count <= 8 else { throw .unknownPath(rawPath) }

        func name<T>(_ make: () throws(CondaNameError) -> T) throws(CondaPathError) -> T {
            do { return try make() } catch { throw .invalidName(error) }
        }

        let channel = try name { () throws(CondaNameError) in try ChannelName(segments[0]) }
        var rest = segments[1...]
        var label: Label?
        if rest.first == "label" {
            guard rest.count >= 2 else { throw .unknownPath(rawPath) }
            let l = rest[rest.startIndex + 1]
            label = try name { () throws(CondaNameError) in try Label(l) }
            rest = rest.dropFirst(2)
        }
        if rest.count == 1, rest.first == "channeldata.json" {
            return CondaRequestPath(channel: channel, label: label, file: .channeldata)
        }
        guard rest.count == 2 || rest.count == 3 else { throw .unknownPath(rawPath) }
        let subdirName = rest[rest.startIndex]
        let subdir = try name { () throws(CondaNameError) in try Subdir(subdirName) }
        let fileSegments = rest.dropFirst()

        if fileSegments.count == 2 {
            let dir = fileSegments[fileSegments.startIndex]
            let file = fileSegments[fileSegments.startIndex + 1]
            guard dir == shardsDirectory, let hex = shardHex(file) else { throw .unknownPath(rawPath) }
            return CondaRequestPath(channel: channel, label: label, file: .subdir(subdir, .shard(sha256Hex: hex)))
        }
        let file = fileSegments[fileSegments.startIndex]
        if let variant = RepodataVariant(rawValue: file) {
            return CondaRequestPath(channel: channel, label: label, file: .subdir(subdir, .repodata(variant)))
        }
        if file == shardIndexFilename {
            return CondaRequestPath(channel: channel, label: label, file: .subdir(subdir, .shardIndex))
        }
        if let hex = shardHex(file) {
            return CondaRequestPath(channel: channel, label: label, file: .subdir(subdir, .shard(sha256Hex: hex)))
        }
        if file.hasSuffix(".conda") || file.hasSuffix(".tar.bz2") {
            let fn = try name { () throws(CondaNameError) in try CondaFilename(file) }
            return CondaRequestPath(channel: channel, label: label, file: .subdir(subdir, .package(fn)))
        }
        throw .unknownPath(rawPath)
    }

    /// `<64 lowercase hex>.msgpack.zst` → the hex.
    private static func shardHex(_ file: String) -> String? {
        guard file.hasSuffix(shardSuffix) else { return nil }
        let hex = file.utf8.dropLast(shardSuffix.utf8.count)
        guard hex.count == 64, hex.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        return String(decoding: hex, as: UTF8.self)
    }

    private static func decodeSegment(_ raw: ArraySlice<UInt8>) throws(CondaPathError) -> String {
        func text() -> String { String(decoding: raw, as: UTF8.self) }
        guard !raw.isEmpty else { throw .emptySegment }
        let bytes: [UInt8]
        do { bytes = try PercentEncoding.decodeBytes(raw) } catch { throw .invalidPercentEncoding(segment: text()) }
        // Checked after decoding so encoded and literal forms are refused alike.
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "/") }) {
            throw .forbiddenCharacter(segment: text())
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8(segment: text()) }
        if decoded == "." || decoded == ".." { throw .dotSegment }
        return decoded
    }
}
