import CArchive

/// Writes `info.tar.gz` reproducibly: the same entries give the same bytes, whenever and wherever
/// (with the same libarchive and zlib). Entries sorted by path; owner 0:0 without names; mtime 0;
/// mode 0644 (0755 when the package marks the file executable, 0777 for symlinks); pax format
/// only where ustar cannot say it (long or non-ASCII paths); gzip without a timestamp or name.
///
/// conda-oci-mirror runs `tar -czf` on the extracted directory, which is not reproducible; the
/// layout only needs the media type and an `info/` tree, which this gives.
///
/// BLOCKING (compression): call it on a worker thread pool.
public enum InfoTarball {
    public static func make(_ entries: [PackageInfoEntry]) throws(PackageInfoError) -> [UInt8] {
        guard let handle = archive_write_new() else { throw .tarball("libarchive is out of memory") }
        defer { archive_write_free(handle) }
        let sink = Sink()
        func check(_ status: Int32) throws(PackageInfoError) {
            guard status >= ARCHIVE_WARN else { throw .tarball(message(handle)) }
        }
        try check(archive_write_set_format_pax_restricted(handle))
        try check(archive_write_add_filter_gzip(handle))
        // No timestamp in the gzip header: the one field that would differ between runs.
        try check(archive_write_set_options(handle, "gzip:!timestamp,gzip:compression-level=9"))
        // No padding of the compressed stream to a 10 KiB record.
        try check(archive_write_set_bytes_in_last_block(handle, 1))
        let box = Unmanaged.passUnretained(sink).toOpaque()
        try check(archive_write_open(handle, box, nil, { _, context, buffer, length in
            guard let context, let buffer else { return -1 }
            let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
            sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: length))
            return la_ssize_t(length)
        }, nil))
        let sorted = entries.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
        for entry in sorted {
            guard let e = archive_entry_new() else { throw .tarball("libarchive is out of memory") }
            defer { archive_entry_free(e) }
            archive_entry_set_pathname_utf8(e, entry.path)
            archive_entry_set_uid(e, 0)
            archive_entry_set_gid(e, 0)
            archive_entry_set_mtime(e, 0, 0)
            switch entry.content {
            case .file(let data, let executable):
                archive_entry_set_filetype(e, 0o100000)
                archive_entry_set_perm(e, executable ? 0o755 : 0o644)
                archive_entry_set_size(e, la_int64_t(data.count))
                try check(archive_write_header(handle, e))
                if !data.isEmpty {
                    let written = data.withUnsafeBytes { archive_write_data(handle, $0.baseAddress, $0.count) }
                    guard written == data.count else { throw .tarball(message(handle)) }
                }
            case .symlink(let target):
                archive_entry_set_filetype(e, 0o120000)
                archive_entry_set_perm(e, 0o777)
                archive_entry_set_symlink_utf8(e, target)
                archive_entry_set_size(e, 0)
                try check(archive_write_header(handle, e))
            }
        }
        try check(archive_write_close(handle))
        return sink.bytes
    }

    private final class Sink {
        var bytes: [UInt8] = []
    }

    private static func message(_ handle: OpaquePointer) -> String {
        archive_error_string(handle).map { String(cString: $0) } ?? "libarchive error \(archive_errno(handle))"
    }
}
