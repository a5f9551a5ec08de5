/// A duration given by a person: `30s`, `10m`, `2h`, `1d`, or plain seconds.
public enum DurationParsing {
    /// The longest duration accepted: 100 years. Longer ones are typos, and every duration here
    /// is later turned into nanoseconds or added to a clock, which a larger value would overflow.
    public static let maximumSeconds: Int64 = 100 * 365 * 86400

    /// nil for anything else, including a value past `maximumSeconds`.
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: " \t")
        guard let unit = trimmed.last else { return nil }
        let multipliers: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        let (digits, multiplier) = unit.isNumber ? (Substring(trimmed), Int64(1)) : (trimmed.dropLast(), multipliers[unit] ?? 0)
        guard multiplier > 0, digits.allSatisfy(\.isASCII), let value = Int64(digits), value >= 0 else { return nil }
        let (seconds, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow, seconds <= maximumSeconds else { return nil }
        return .seconds(seconds)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
