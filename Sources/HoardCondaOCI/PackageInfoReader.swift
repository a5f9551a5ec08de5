import CArchive
import HoardConda

/// Reads the `info/` directory out of a package archive held in memory (mapped), with libarchive:
/// `.conda` is a zip whose `info-<stem>.tar.zst` member holds it (libarchive's zstd filter is
/// libzstd); `.tar.bz2` is one bzip2 tarball with `info/` among the package files.
///
/// BLOCKING (decompression): call it on a worker thread pool.
public enum PackageInfoReader {
    /// The most `info/` may hold, uncompressed. Real packages carry kilobytes to a few megabytes
    /// (recipes, licenses, test files); past this it is a decompression bomb.
    public static let maxInfoBytes = 256 << 20

    public static func read(_ bytes: UnsafeRawBufferPointer, filename: CondaFilename) throws(PackageInfoError) -> [PackageInfoEntry] {
        let entries: [PackageInfoEntry]
        switch filename.format {
        case .conda:
            guard let inner = try innerInfoTar(bytes, filename: filename.rawValue) else {
                throw .noIndexJSON(filename: filename.rawValue)
            }
            let result = inner.withUnsafeBytes { p in
                Result { () throws(PackageInfoError) in try collect(p, format: .tarZstd, filename: filename.rawValue) }
            }
            entries = try result.get()
        case .tarBz2:
            entries = try collect(bytes, format: .tarBzip2, filename: filename.rawValue)
        }
        guard entries.contains(where: { $0.path == "info/index.json" }) else { throw .noIndexJSON(filename: filename.rawValue) }
        return entries
    }

    private enum Format { case zip, tarZstd, tarBzip2 }

    /// The `info-*.tar.zst` member of a `.conda`, or nil when it has none.
    private static func innerInfoTar(_ bytes: UnsafeRawBufferPointer, filename: String) throws(PackageInfoError) -> [UInt8]? {
        let reader = try Reader(bytes, format: .zip, filename: filename)
        defer { reader.close() }
        while let entry = try reader.next() {
            let name = reader.pathname(entry)
            guard name.hasPrefix("info-"), name.hasSuffix(".tar.zst"), !name.contains("/") else { continue }
            return try reader.data(limit: maxInfoBytes)
        }
        return nil
    }

    private static func collect(_ bytes: UnsafeRawBufferPointer, format: Format, filename: String) throws(PackageInfoError) -> [PackageInfoEntry] {
        let reader = try Reader(bytes, format: format, filename: filename)
        defer { reader.close() }
        var entries: [String: PackageInfoEntry] = [:]
        var total = 0
        while let entry = try reader.next() {
            guard let path = PackageInfoEntry.normalizedInfoPath(reader.pathname(entry)) else { continue }
            let type = archive_entry_filetype(entry) & 0o170000
            switch type {
            case 0o100000:
                let data = try reader.data(limit: maxInfoBytes - total)
                total += data.count
                let executable = archive_entry_perm(entry) & 0o111 != 0
                entries[path] = PackageInfoEntry(path: path, content: .file(data, executable: executable))
            case 0o120000:
                let target = archive_entry_symlink_utf8(entry).map { String(cString: $0) } ?? archive_entry_symlink(entry).map { String(cString: $0) } ?? ""
                entries[path] = PackageInfoEntry(path: path, content: .symlink(target: target))
            default:
                // Directories are implied by the paths; devices and fifos have no place in info/.
                continue
            }
        }
        // Sorted by path bytes: the order of the tarball does not depend on the archive's.
        return entries.values.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
    }

    /// One libarchive read handle over memory.
    private final class Reader {
        let handle: OpaquePointer
        let filename: String

        init(_ bytes: UnsafeRawBufferPointer, format: Format, filename: String) throws(PackageInfoError) {
            guard let handle = archive_read_new() else { throw .unreadable(filename: filename, reason: "libarchive is out of memory") }
            self.handle = handle
            self.filename = filename
            switch format {
            case .zip:
                archive_read_support_format_zip(handle)
            case .tarZstd:
                archive_read_support_format_tar(handle)
                archive_read_support_filter_zstd(handle)
            case .tarBzip2:
                archive_read_support_format_tar(handle)
                archive_read_support_filter_bzip2(handle)
            }
            // An empty buffer has no base address; libarchive then reads nothing and says so.
            let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)
            guard archive_read_open_memory(handle, base, bytes.count) == ARCHIVE_OK else {
                let reason = Self.message(handle)
                archive_read_free(handle)
                throw .unreadable(filename: filename, reason: reason)
            }
        }

        func close() { archive_read_free(handle) }

        func next() throws(PackageInfoError) -> OpaquePointer? {
            var entry: OpaquePointer?
            let status = archive_read_next_header(handle, &entry)
            if status == ARCHIVE_EOF { return nil }
            guard status >= ARCHIVE_WARN, let entry else { throw .unreadable(filename: filename, reason: Self.message(handle)) }
            return entry
        }

        func pathname(_ entry: OpaquePointer) -> String {
            if let utf8 = archive_entry_pathname_utf8(entry) { return String(cString: utf8) }
            return archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
        }

        /// The current entry's bytes; more than `limit` is refused.
        func data(limit: Int) throws(PackageInfoError) -> [UInt8] {
            var out: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            while true {
                let n = chunk.withUnsafeMutableBytes { archive_read_data(handle, $0.baseAddress, $0.count) }
                if n == 0 { return out }
                guard n > 0 else { throw .unreadable(filename: filename, reason: Self.message(handle)) }
                guard out.count + n <= limit else { throw .tooLarge(filename: filename, limit: PackageInfoReader.maxInfoBytes) }
                out.append(contentsOf: chunk[0..<n])
            }
        }

        static func message(_ handle: OpaquePointer) -> String {
            archive_error_string(handle).map { String(cString: $0) } ?? "libarchive error \(archive_errno(handle))"
        }
    }
}
