import CArchive

/// A tar file written or read with libarchive, for the OCI image layout archive.
/// BLOCKING (file I/O): call its methods on a worker thread pool, one thread at a time.
final class LayoutTarWriter: @unchecked Sendable {
    private let handle: OpaquePointer
    let path: String

    init(path: String) throws(LayoutError) {
        guard let handle = archive_write_new() else { throw .io("libarchive is out of memory") }
        self.handle = handle
        self.path = path
        // pax: sizes past ustar's 8 GiB; the names here always fit ustar, so no pax headers appear.
        guard archive_write_set_format_pax_restricted(handle) == ARCHIVE_OK,
            archive_write_open_filename(handle, path) == ARCHIVE_OK
        else {
            let reason = Self.message(handle)
            archive_write_free(handle)
            throw .io("cannot write \(path): \(reason)")
        }
    }

    deinit { archive_write_free(handle) }

    /// Starts a regular file of `size` bytes (then `write` exactly that much).
    func begin(_ name: String, size: Int64, directory: Bool = false) throws(LayoutError) {
        guard let entry = archive_entry_new() else { throw .io("libarchive is out of memory") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, name)
        archive_entry_set_filetype(entry, directory ? 0o040000 : 0o100000)
        archive_entry_set_perm(entry, directory ? 0o755 : 0o644)
        archive_entry_set_size(entry, directory ? 0 : size)
        archive_entry_set_mtime(entry, 0, 0)
        guard archive_write_header(handle, entry) >= ARCHIVE_WARN else { throw .io("cannot write \(path): \(Self.message(handle))") }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(LayoutError) {
        guard !bytes.isEmpty else { return }
        let n = archive_write_data(handle, bytes.baseAddress, bytes.count)
        guard n == bytes.count else { throw .io("cannot write \(path): \(Self.message(handle))") }
    }

    func close() throws(LayoutError) {
        guard archive_write_close(handle) == ARCHIVE_OK else { throw .io("cannot finish \(path): \(Self.message(handle))") }
    }

    static func message(_ handle: OpaquePointer) -> String {
        archive_error_string(handle).map { String(cString: $0) } ?? "libarchive error \(archive_errno(handle))"
    }
}

final class LayoutTarReader: @unchecked Sendable {
    private let handle: OpaquePointer
    let path: String

    struct Entry: Sendable {
        let name: String
        let type: UInt32
        let size: Int64
        var isRegular: Bool { type == 0o100000 }
        var isDirectory: Bool { type == 0o040000 }
    }

    init(path: String) throws(LayoutError) {
        guard let handle = archive_read_new() else { throw .io("libarchive is out of memory") }
        self.handle = handle
        self.path = path
        archive_read_support_format_tar(handle)
        guard archive_read_open_filename(handle, path, 1 << 20) == ARCHIVE_OK else {
            let reason = LayoutTarWriter.message(handle)
            archive_read_free(handle)
            throw .io("cannot read \(path): \(reason)")
        }
    }

    deinit { archive_read_free(handle) }

    func next() throws(LayoutError) -> Entry? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(handle, &entry)
        if status == ARCHIVE_EOF { return nil }
        guard status >= ARCHIVE_WARN, let entry else { throw .notALayout("\(path) is not a readable tar: \(LayoutTarWriter.message(handle))") }
        let name = archive_entry_pathname_utf8(entry).map { String(cString: $0) } ?? archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
        // Hard links carry a type of 0 in libarchive's entry but name a target: refused as "other".
        let hardlink = archive_entry_hardlink(entry) != nil
        return Entry(name: name, type: hardlink ? 0 : UInt32(archive_entry_filetype(entry)), size: archive_entry_size(entry))
    }

    /// Up to `count` bytes of the current entry; empty at its end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(LayoutError) -> Int {
        let n = archive_read_data(handle, buffer.baseAddress, buffer.count)
        guard n >= 0 else { throw .notALayout("\(path) is damaged: \(LayoutTarWriter.message(handle))") }
        return n
    }
}

public enum LayoutError: Error, Sendable, Equatable, CustomStringConvertible {
    case io(String)
    /// Not an OCI image layout hoard can import (what is wrong, named).
    case notALayout(String)
    /// A path the layout has no place for (absolute, `..`, not `blobs/sha256/<hex>`, links).
    case pathOutsideLayout(String)
    /// A blob whose bytes do not hash to its name, or a manifest naming a blob the archive lacks.
    case badDigest(String)

    public var description: String {
        switch self {
        case .io(let m): m
        case .notALayout(let m): "not an OCI image layout archive: \(m)"
        case .pathOutsideLayout(let p): "refused: the archive holds \"\(p)\", which is outside an OCI image layout (oci-layout, index.json, blobs/sha256/<hex>); nothing was imported"
        case .badDigest(let m): "refused: \(m); nothing was imported"
        }
    }
}
