import CArchive

/// Real conda archives for the fake channel, written with libarchive: a `.conda` (stored zip of
/// `metadata.json`, `pkg-<stem>.tar.zst`, `info-<stem>.tar.zst`) and a `.tar.bz2`.
enum TestCondaArchive {
    static func conda(name: String, version: String, build: String) -> [UInt8] {
        let stem = "\(name)-\(version)-\(build)"
        return write(
            [
                ("metadata.json", Array(#"{"conda_pkg_format_version": 2}"#.utf8)),
                ("pkg-\(stem).tar.zst", write(payload(name), format: .tarZstd)),
                ("info-\(stem).tar.zst", write(info(name, version, build), format: .tarZstd)),
            ], format: .zip)
    }

    static func tarBz2(name: String, version: String, build: String) -> [UInt8] {
        write(payload(name) + info(name, version, build), format: .tarBzip2)
    }

    private static func info(_ name: String, _ version: String, _ build: String) -> [(String, [UInt8])] {
        [
            ("info/index.json", Array(#"{"build": "\#(build)", "build_number": 0, "name": "\#(name)", "subdir": "noarch", "version": "\#(version)"}"#.utf8)),
            ("info/about.json", Array(#"{"summary": "test package"}"#.utf8)),
        ]
    }

    private static func payload(_ name: String) -> [(String, [UInt8])] { [("share/\(name).txt", Array("payload of \(name)".utf8))] }

    private enum Format { case zip, tarZstd, tarBzip2 }

    private final class Sink { var bytes: [UInt8] = [] }

    private static func write(_ files: [(String, [UInt8])], format: Format) -> [UInt8] {
        let a = archive_write_new()!
        defer { archive_write_free(a) }
        switch format {
        case .zip:
            archive_write_set_format_zip(a)
            archive_write_set_options(a, "zip:compression=store")
        case .tarZstd:
            archive_write_set_format_pax_restricted(a)
            archive_write_add_filter_zstd(a)
        case .tarBzip2:
            archive_write_set_format_pax_restricted(a)
            archive_write_add_filter_bzip2(a)
        }
        archive_write_set_bytes_in_last_block(a, 1)
        let sink = Sink()
        archive_write_open(a, Unmanaged.passUnretained(sink).toOpaque(), nil, { _, context, buffer, length in
            Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue().bytes.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: length))
            return la_ssize_t(length)
        }, nil)
        for (path, bytes) in files {
            let e = archive_entry_new()!
            archive_entry_set_pathname(e, path)
            archive_entry_set_filetype(e, 0o100000)
            archive_entry_set_perm(e, 0o644)
            archive_entry_set_mtime(e, 1_700_000_000, 0)
            archive_entry_set_size(e, la_int64_t(bytes.count))
            archive_write_header(a, e)
            _ = bytes.withUnsafeBytes { archive_write_data(a, $0.baseAddress, $0.count) }
            archive_entry_free(e)
        }
        archive_write_close(a)
        return sink.bytes
    }
}
