import CArchive

/// Real package archives for tests, written with libarchive's writers (zip, ustar, zstd, bzip2):
/// a `.conda` (zip holding `metadata.json`, `pkg-<stem>.tar.zst`, `info-<stem>.tar.zst`) and a
/// `.tar.bz2`, as conda-package-handling lays them out.
enum TestArchive {
    struct File {
        var path: String
        var bytes: [UInt8] = []
        var mode: UInt32 = 0o644
        var symlink: String? = nil
        var mtime: Int = 1_700_000_000

        init(_ path: String, _ text: String = "", mode: UInt32 = 0o644, symlink: String? = nil, mtime: Int = 1_700_000_000) {
            self.path = path
            bytes = Array(text.utf8)
            self.mode = mode
            self.symlink = symlink
            self.mtime = mtime
        }
    }

    static func indexJSON(name: String, version: String, build: String, subdir: String? = "noarch") -> String {
        var fields = ["\"name\": \"\(name)\"", "\"version\": \"\(version)\"", "\"build\": \"\(build)\"", "\"build_number\": 0"]
        if let subdir { fields.append("\"subdir\": \"\(subdir)\"") }
        return "{\n  " + fields.joined(separator: ",\n  ") + "\n}"
    }

    static func conda(stem: String, info: [File], pkg: [File]) -> [UInt8] {
        let infoTar = archive(info, format: .tarZstd)
        let pkgTar = archive(pkg, format: .tarZstd)
        return archive(
            [
                File("metadata.json", #"{"conda_pkg_format_version": 2}"#),
                File("pkg-\(stem).tar.zst", String(decoding: [], as: UTF8.self)).with(bytes: pkgTar),
                File("info-\(stem).tar.zst").with(bytes: infoTar),
            ], format: .zip)
    }

    static func tarBz2(info: [File], pkg: [File]) -> [UInt8] {
        archive(pkg + info, format: .tarBzip2)
    }

    enum Format { case zip, tarZstd, tarBzip2 }

    final class Sink { var bytes: [UInt8] = [] }

    static func archive(_ files: [File], format: Format) -> [UInt8] {
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
            Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue().bytes.append(
                contentsOf: UnsafeRawBufferPointer(start: buffer, count: length))
            return la_ssize_t(length)
        }, nil)
        for file in files {
            let e = archive_entry_new()!
            archive_entry_set_pathname(e, file.path)
            archive_entry_set_mtime(e, file.mtime, 0)
            archive_entry_set_uid(e, 1000)
            archive_entry_set_uname(e, "builder")
            if let target = file.symlink {
                archive_entry_set_filetype(e, 0o120000)
                archive_entry_set_perm(e, 0o777)
                archive_entry_set_symlink(e, target)
                archive_write_header(a, e)
            } else {
                archive_entry_set_filetype(e, 0o100000)
                archive_entry_set_perm(e, file.mode)
                archive_entry_set_size(e, la_int64_t(file.bytes.count))
                archive_write_header(a, e)
                _ = file.bytes.withUnsafeBytes { archive_write_data(a, $0.baseAddress, $0.count) }
            }
            archive_entry_free(e)
        }
        archive_write_close(a)
        return sink.bytes
    }

    /// Every entry of a tarball (any compression libarchive reads): path → (mode, uid, mtime, bytes).
    static func entries(_ bytes: [UInt8]) -> [(path: String, mode: UInt32, uid: Int64, uname: String?, mtime: Int, bytes: [UInt8], symlink: String?)] {
        let a = archive_read_new()!
        defer { archive_read_free(a) }
        archive_read_support_format_all(a)
        archive_read_support_filter_all(a)
        var out: [(String, UInt32, Int64, String?, Int, [UInt8], String?)] = []
        bytes.withUnsafeBytes { raw in
            archive_read_open_memory(a, raw.baseAddress, raw.count)
            var entry: OpaquePointer?
            while archive_read_next_header(a, &entry) == ARCHIVE_OK, let e = entry {
                var data: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = chunk.withUnsafeMutableBytes { archive_read_data(a, $0.baseAddress, $0.count) }
                    if n <= 0 { break }
                    data += chunk[0..<n]
                }
                out.append((
                    String(cString: archive_entry_pathname(e)), archive_entry_mode(e), archive_entry_uid(e),
                    archive_entry_uname(e).map { String(cString: $0) }, archive_entry_mtime(e), data,
                    archive_entry_symlink(e).map { String(cString: $0) }
                ))
            }
        }
        return out.map { (path: $0.0, mode: $0.1, uid: $0.2, uname: $0.3, mtime: $0.4, bytes: $0.5, symlink: $0.6) }
    }
}

extension TestArchive.File {
    func with(bytes: [UInt8]) -> Self {
        var copy = self
        copy.bytes = bytes
        return copy
    }
}
