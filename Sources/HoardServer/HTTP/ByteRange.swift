/// A single byte range from a `Range: bytes=...` header, resolved against a size.
enum ByteRange: Equatable {
    /// No usable Range header: send the whole representation.
    case whole
    /// `start...end`, inclusive, within the representation.
    case partial(start: Int64, end: Int64)
    /// The range lies outside the representation: 416.
    case unsatisfiable

    /// Multiple ranges and unknown units are ignored (RFC 9110 allows it), answering with the
    /// whole representation; malformed single ranges likewise.
    init(header: String?, size: Int64) {
        guard let header, header.hasPrefix("bytes=") else { self = .whole; return }
        let spec = header.dropFirst(6)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { self = .whole; return }
        let first = spec[..<dash].trimmed()
        let last = spec[spec.index(after: dash)...].trimmed()
        if first.isEmpty {
            // Suffix range: the last N bytes.
            guard let count = Int64(last), count >= 0 else { self = .whole; return }
            guard count > 0, size > 0 else { self = .unsatisfiable; return }
            self = .partial(start: max(0, size - count), end: size - 1)
            return
        }
        guard let start = Int64(first), start >= 0 else { self = .whole; return }
        var end = size - 1
        if !last.isEmpty {
            guard let value = Int64(last), value >= start else { self = .whole; return }
            end = min(value, size - 1)
        }
        self = start < size ? .partial(start: start, end: end) : .unsatisfiable
    }
}
