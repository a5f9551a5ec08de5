import Foundation

/// The seam to the state several nodes share (scale-out over one bucket): small objects named by
/// keys, written with conditions so that concurrent nodes never silently overwrite each other.
///
/// The S3 backend (HoardS3) keeps them as objects in the bucket under `PREFIX/`; a single node
/// with the file backend has none (`Store.shared` is nil) and its SQLite index is the truth. With
/// shared objects the bucket is the truth and each node's SQLite index is a cache of it.
/// `MemorySharedObjects` keeps them in memory, for tests of the logic above the seam.
public protocol SharedObjects: Sendable {
    /// The object under `key`, or nil when there is none.
    func get(_ key: SharedKey) async throws(StoreError) -> SharedObject?
    /// Writes `bytes` under `key` when `condition` holds; returns the new version tag, or nil
    /// when the condition failed (someone else wrote first): nothing was written then.
    func put(_ key: SharedKey, _ bytes: [UInt8], when condition: SharedWriteCondition) async throws(StoreError) -> String?
    /// Removes the object; removing an absent object is not an error.
    func delete(_ key: SharedKey) async throws(StoreError)
    /// Every object whose key starts with `prefix`, in key order.
    func list(prefix: SharedKey) async throws(StoreError) -> [SharedObjectSummary]
}

/// When a shared write may happen.
public enum SharedWriteCondition: Sendable, Hashable {
    /// Always (last writer wins).
    case always
    /// Only when no object exists under the key (S3 `If-None-Match: *`): first writer wins.
    case ifAbsent
    /// Only when the object is still at this version (S3 `If-Match: ETAG`): compare-and-swap.
    case ifMatch(String)
}

/// One shared object as read.
public struct SharedObject: Sendable, Hashable {
    public let bytes: [UInt8]
    /// The version tag (S3 ETag) to give `ifMatch` for a compare-and-swap.
    public let version: String
    public let lastModified: Date?

    public init(bytes: [UInt8], version: String, lastModified: Date?) {
        self.bytes = bytes
        self.version = version
        self.lastModified = lastModified
    }
}

/// One entry of `SharedObjects.list`.
public struct SharedObjectSummary: Sendable, Hashable {
    public let key: SharedKey
    public let size: Int64
    public let lastModified: Date?

    public init(key: SharedKey, size: Int64, lastModified: Date?) {
        self.key = key
        self.size = size
        self.lastModified = lastModified
    }
}

/// A key of a shared object: `/`-separated components, each made safe by `component(_:)`, so any
/// name (a conda channel, an OCI repository with slashes, an empty label) maps to one key and
/// back without ambiguity. Relative to the backend's root (`PREFIX/` in a bucket).
public struct SharedKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let path: String

    /// A key from components already made safe (constants such as `index`, `conda`).
    public init(path: String) { self.path = path }

    /// A key from raw components, each encoded with `component(_:)`.
    public init(_ components: [String]) {
        path = components.map(SharedKey.component).joined(separator: "/")
    }

    /// This key with more raw components appended (encoded).
    public func appending(_ components: String...) -> SharedKey {
        SharedKey(path: ([path] + components.map(SharedKey.component)).joined(separator: "/"))
    }

    /// A prefix for `list`: this key followed by `/`.
    public var directory: SharedKey { SharedKey(path: path + "/") }

    /// The last component, decoded.
    public var lastComponent: String? {
        guard let last = path.split(separator: "/", omittingEmptySubsequences: false).last else { return nil }
        return SharedKey.decode(last)
    }

    /// Encodes one component: bytes outside `[A-Za-z0-9._-]` become `%XX`; the empty string is `@`
    /// (which is never produced otherwise, since `@` itself is encoded).
    public static func component(_ raw: String) -> String {
        if raw.isEmpty { return "@" }
        var out = ""
        for byte in raw.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        // `.` and `..` alone would be path segments some servers normalise away.
        if out == "." { return "%2E" }
        if out == ".." { return "%2E%2E" }
        return out
    }

    /// Decodes one component made by `component(_:)`; nil when it is not one.
    public static func decode(_ encoded: some StringProtocol) -> String? {
        if encoded == "@" { return "" }
        var bytes: [UInt8] = []
        var iterator = encoded.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(bytes: bytes, encoding: .utf8)
    }

    public static func < (lhs: SharedKey, rhs: SharedKey) -> Bool { lhs.path < rhs.path }
    public var description: String { path }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
