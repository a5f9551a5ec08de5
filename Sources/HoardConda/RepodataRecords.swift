import CSimdjson
import HoardDigest

public enum RepodataRecordsError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidJSON(String)

    public var description: String {
        switch self {
        case .invalidJSON(let m): return "repodata is not valid JSON (\(m)); the upstream document is probably truncated or corrupt"
        }
    }
}

/// Filename → digest index over `packages` and `packages.conda` (sha256, size, md5, timestamp),
/// built with simdjson On-Demand.
///
/// simdjson reads up to `requiredPadding` bytes past the end of the input. When the caller
/// passes `allocatedCount >= document.count + requiredPadding` (e.g. a `PaddedBuffer`) the
/// document is parsed in place; otherwise the C shim copies it once into a padded buffer
/// (costs one extra document of memory and ~30 ms per 300 MB).
public enum RepodataRecords {
    public static let requiredPadding: Int = Int(hoard_simdjson_padding())
    public static let simdjsonVersion: String = String(cString: hoard_simdjson_version())

    public static func build(document: UnsafeRawBufferPointer, allocatedCount: Int? = nil) throws(RepodataRecordsError) -> [String: PackageDigest] {
        var error = [CChar](repeating: 0, count: 256)
        guard let collected = hoard_simdjson_collect(
            document.baseAddress?.assumingMemoryBound(to: UInt8.self), document.count,
            allocatedCount ?? document.count, &error, error.count)
        else { throw .invalidJSON(message(error)) }
        defer { hoard_records_free(collected) }
        // The C++ side gathers everything into one array, so this loop is plain Swift on a
        // local dictionary: no per-record callback, no exclusivity checks on a class property.
        let items = UnsafeBufferPointer(start: hoard_records_items(collected), count: hoard_records_count(collected))
        let arena = UnsafeRawPointer(hoard_records_arena(collected))
        var map: [String: PackageDigest] = [:]
        map.reserveCapacity(items.count)
        for item in items {
            let name = String(decoding: UnsafeRawBufferPointer(start: arena.map { $0 + Int(item.name_offset) }, count: Int(item.name_len)), as: UTF8.self)
            var digest = PackageDigest()
            if item.flags & Int32(HOARD_RECORD_HAS_SHA256) != 0 {
                digest.sha256 = withUnsafeBytes(of: item.sha256) { BlobDigest(bytes: $0) }
            }
            if item.flags & Int32(HOARD_RECORD_HAS_SIZE) != 0 { digest.size = item.size }
            if item.flags & Int32(HOARD_RECORD_HAS_MD5) != 0 {
                digest.md5 = withUnsafeBytes(of: item.md5) { MD5Digest(bytes: $0) }
            }
            if item.flags & Int32(HOARD_RECORD_HAS_TIMESTAMP) != 0 { digest.timestamp = item.timestamp }
            map[name] = digest
        }
        return map
    }

    public static func build(_ buffer: PaddedBuffer) throws(RepodataRecordsError) -> [String: PackageDigest] {
        try buffer.withUnsafeBytes { (p) throws(RepodataRecordsError) in try build(document: p, allocatedCount: buffer.allocatedCount) }
    }

    /// Finds one record without building the map: simdjson still indexes the whole document,
    /// but only keys of the section matching the file's format are unescaped and compared.
    public static func lookup(filename: CondaFilename, in document: UnsafeRawBufferPointer, allocatedCount: Int? = nil) throws(RepodataRecordsError) -> PackageDigest? {
        var error = [CChar](repeating: 0, count: 256)
        var sha = [CChar](repeating: 0, count: 64)
        var shaLen = 0
        var size: UInt64 = 0
        var flags: Int32 = 0
        let section = filename.format.repodataSection
        let rc = section.withCString { s in
            filename.rawValue.withCString { f in
                hoard_simdjson_lookup(
                    document.baseAddress?.assumingMemoryBound(to: UInt8.self), document.count,
                    allocatedCount ?? document.count,
                    s, section.utf8.count, f, filename.rawValue.utf8.count,
                    &sha, sha.count, &shaLen, &size, &flags, &error, error.count)
            }
        }
        guard rc >= 0 else { throw .invalidJSON(message(error)) }
        guard rc == 1 else { return nil }
        return sha.withUnsafeBytes { shaBytes in
            digest(sha: shaBytes.baseAddress?.assumingMemoryBound(to: CChar.self), shaLen: shaLen, size: size, flags: flags)
        }
    }

    public static func lookup(filename: CondaFilename, in buffer: PaddedBuffer) throws(RepodataRecordsError) -> PackageDigest? {
        try buffer.withUnsafeBytes { (p) throws(RepodataRecordsError) in try lookup(filename: filename, in: p, allocatedCount: buffer.allocatedCount) }
    }

    /// A malformed sha256 (not 64 hex digits) counts as absent rather than failing the document.
    @inline(__always)
    fileprivate static func digest(sha: UnsafePointer<CChar>?, shaLen: Int, size: UInt64, flags: Int32) -> PackageDigest {
        var d = PackageDigest()
        if flags & Int32(HOARD_RECORD_HAS_SHA256) != 0, let sha {
            d.sha256 = BlobDigest(hexUTF8: UnsafeRawBufferPointer(start: sha, count: shaLen))
        }
        if flags & Int32(HOARD_RECORD_HAS_SIZE) != 0 { d.size = size }
        return d
    }

    private static func message(_ buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
