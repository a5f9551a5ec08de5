/// The one `Range` parser (RFC 9110 §14.1, §14.2): a byte range set resolved against a size.
///
/// The choice, per RFC 9110 (every front and the fast path answer through this one type):
/// - absent, another unit, or an *invalid* range set (not the grammar, a number with a sign or
///   spaces inside, or any `last-pos` below its `first-pos` such as `bytes=9-3`): ignored, `.whole`
///   (200). §14.1.1 calls such a spec invalid and §14.2 lets a server ignore the field;
/// - valid, but no range in the set satisfiable (`first-pos` at or past the end, `bytes=-0`, or
///   any int-range of an empty representation): `.unsatisfiable` (416, §15.5.17);
/// - one satisfiable range: `.partial`, clamped to the representation (206);
/// - several ranges, at least one satisfiable: `.whole` (200). hoard sends no multipart/byteranges,
///   and §14.2 lets a server ignore Range rather than answer every part;
/// - a suffix range of an empty representation is satisfiable (§14.1.3) but has no byte to send:
///   `.whole`, the empty body.
/// Numbers of any length are accepted (saturating at `Int64.max`), so arithmetic never overflows;
/// OWS around the members of the list and around the whole value is allowed, none inside a member.
public enum ByteRange: Equatable, Sendable {
    /// No usable Range header: send the whole representation.
    case whole
    /// `start...end`, inclusive, within the representation.
    case partial(start: Int64, end: Int64)
    /// The range lies outside the representation: 416 with `Content-Range: bytes */SIZE`.
    case unsatisfiable

    public init(header: String?, size: Int64) {
        let size = max(size, 0)
        guard let header, let specs = Self.specs(header) else { self = .whole; return }
        guard specs.contains(where: { $0.isSatisfiable(size: size) }) else { self = .unsatisfiable; return }
        guard specs.count == 1, let spec = specs.first else { self = .whole; return }
        switch spec {
        case .suffix(let count):
            guard size > 0 else { self = .whole; return }
            self = .partial(start: size - min(count, size), end: size - 1)
        case .from(let first, let last):
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

        /// RFC 9110 §14.1.1: an int-range starting inside the representation, or a non-empty suffix.
        func isSatisfiable(size: Int64) -> Bool {
            switch self {
            case .from(let first, _): first < size
            case .suffix(let count): count > 0
            }
        }
    }

    /// The range-specs of a valid `bytes=` header (at least one); nil when it is to be ignored.
    static func specs(_ header: String) -> [Spec]? {
        let text = header.trimmingOWS
        guard let equals = text.firstIndex(of: "="), text[..<equals].lowercased() == "bytes" else { return nil }
        // `1#range-spec`: empty list members are allowed and skipped (RFC 9110 §5.6.1).
        let members = text[text.index(after: equals)...].split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingOWS }.filter { !$0.isEmpty }
        guard !members.isEmpty else { return nil }
        var specs: [Spec] = []
        specs.reserveCapacity(members.count)
        for member in members {
            guard let spec = spec(member) else { return nil }  // one invalid spec: the whole field is invalid
            specs.append(spec)
        }
        return specs
    }

    /// One `int-range` or `suffix-range`; nil if it is not the grammar or `last-pos < first-pos`.
    static func spec(_ member: Substring) -> Spec? {
        guard let dash = member.firstIndex(of: "-") else { return nil }
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
