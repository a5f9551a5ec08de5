/// Non-negative decimal integers from header fields (RFC 9110 `1*DIGIT`), parsed without traps.
///
/// Header numbers come from the network and may have any number of digits; every parser here
/// either saturates (a value too large means "as large as possible") or rejects, never overflows.
enum HeaderDigits {
    /// `1*DIGIT` as an Int64, saturating at `Int64.max`; nil if empty or any byte is not a digit.
    static func saturating<S: StringProtocol>(_ text: S) -> Int64? {
        var value: Int64 = 0
        var any = false
        for byte in text.utf8 {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            any = true
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(Int64(byte - 0x30))
            value = (o1 || o2) ? Int64.max : next
        }
        return any ? value : nil
    }

    /// `1*DIGIT` as an Int64; nil if empty, not all digits, or larger than `Int64.max`.
    static func exact<S: StringProtocol>(_ text: S) -> Int64? {
        var value: Int64 = 0
        guard !text.isEmpty else { return nil }
        for byte in text.utf8 {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(Int64(byte - 0x30))
            guard !o1, !o2 else { return nil }
            value = next
        }
        return value
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (RFC 9110 OWS; header values are ASCII).
    public var trimmingOWS: Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
