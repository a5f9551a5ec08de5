/// A duration given by a person: `30s`, `10m`, `2h`, `1d`, or plain seconds.
public enum DurationParsing {
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: " \t")
        guard let unit = trimmed.last else { return nil }
        let multipliers: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        let (digits, multiplier) = unit.isNumber ? (Substring(trimmed), Int64(1)) : (trimmed.dropLast(), multipliers[unit] ?? 0)
        guard multiplier > 0, let value = Int64(digits), value >= 0 else { return nil }
        return .seconds(value * multiplier)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
