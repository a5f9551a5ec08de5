/// The one `Range` parser (RFC 9110 §14.1, §14.2): a single byte range resolved against a size.
///
/// - absent, another unit, several ranges, or an *invalid* range set (not the grammar, or a
///   `last-pos` below its `first-pos` such as `bytes=9-3`): ignored, `.whole` (200);
/// - valid but unsatisfiable (`first-pos` at or past the end, `bytes=-0`): `.unsatisfiable` (416);
/// - otherwise `.partial`, clamped to the representation.
/// Numbers of any length are accepted (saturating at `Int64.max`), so arithmetic never overflows.
public enum ByteRange: Equatable, Sendable {
    /// No usable Range header: send the whole representation.
    case whole
    /// `start...end`, inclusive, within the representation.
    case partial(start: Int64, end: Int64)
    /// The range lies outside the representation: 416 with `Content-Range: bytes */SIZE`.
    case unsatisfiable

    public init(header: String?, size: Int64) {
        let size = max(size, 0)
        guard let header, let spec = Self.singleSpec(header) else { self = .whole; return }
        switch spec {
        case .suffix(let count):
            // An empty representation has no bytes to send; answering it whole (empty) is allowed.
            guard count > 0 else { self = .unsatisfiable; return }
            guard size > 0 else { self = .whole; return }
            self = .partial(start: size - min(count, size), end: size - 1)
        case .from(let first, let last):
            guard first < size else { self = .unsatisfiable; return }
            self = .partial(start: first, end: min(last ?? Int64.max, size - 1))
        }
    }

    /// The number of bytes a `.partial` sends (0 otherwise).
    public var length: Int64 {
        if case .partial(let start, let end) = self { return end - start + 1 }
        return 0
    }

    enum Spec: Equatable {
        case from(first: Int64, last: Int64?)
        case suffix(Int64)
    }

    /// The range-spec of a `bytes=` header naming exactly one valid range; nil otherwise.
    static func singleSpec(_ header: String) -> Spec? {
        let text = header.trimmingOWS
        guard let equals = text.firstIndex(of: "="), text[..<equals].lowercased() == "bytes" else { return nil }
        // `1#range-spec`: empty list members are allowed and skipped (RFC 9110 §5.6.1).
        let members = text[text.index(after: equals)...].split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingOWS }.filter { !$0.isEmpty }
        guard members.count == 1, let member = members.first, let dash = member.firstIndex(of: "-") else { return nil }
        let first = member[..<dash]
        let last = member[member.index(after: dash)...]
        if first.isEmpty {
            return HeaderDigits.saturating(last).map(Spec.suffix)
        }
        guard let firstPos = HeaderDigits.saturating(first) else { return nil }
        if last.isEmpty { return .from(first: firstPos, last: nil) }
        guard let lastPos = HeaderDigits.saturating(last), lastPos >= firstPos else { return nil }
        return .from(first: firstPos, last: lastPos)
    }
}
