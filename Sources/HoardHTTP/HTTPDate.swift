/// HTTP-date as IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7): the form of
/// Last-Modified, Date, If-Modified-Since and If-Range.
///
/// Pure arithmetic on the proleptic Gregorian calendar (no libc `timegm`/`gmtime`), with every
/// field range-checked, so no input (a year 99999, a day 0, garbage) can trap or overflow.
public enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The instants an IMF-fixdate can name: 0000-01-01T00:00:00Z ... 9999-12-31T23:59:59Z.
    public static let earliest: Int64 = -62_167_219_200
    public static let latest: Int64 = 253_402_300_799

    /// Unix seconds as IMF-fixdate; fractions are dropped, and values outside what the format can
    /// name (including NaN and infinities) are clamped into it (NaN as the epoch).
    public static func format(_ seconds: Double) -> String {
        format(clampedSeconds(seconds))
    }

    public static func format(_ seconds: Int64) -> String {
        let t = min(max(seconds, earliest), latest)
        let (dayNumber, secondOfDay) = floorDivMod(t, 86_400)
        let (year, month, day) = civil(fromDays: dayNumber)
        let weekday = Int(floorDivMod(dayNumber + 4, 7).1)  // 1970-01-01 was a Thursday
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let yearText = String(year)
        let paddedYear = String(repeating: "0", count: max(0, 4 - yearText.count)) + yearText
        return "\(days[weekday]), \(two(day)) \(months[Int(month - 1)]) \(paddedYear) "
            + "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) GMT"
    }

    /// Unix seconds, or nil for anything that is not a valid IMF-fixdate.
    public static func parse(_ text: String) -> Double? {
        seconds(text).map(Double.init)
    }

    /// Unix seconds, or nil for anything that is not a valid IMF-fixdate.
    public static func seconds(_ text: String) -> Int64? {
        let bytes = Array(text.trimmingOWS.utf8)
        // "Sun, 06 Nov 1994 08:49:37 GMT": exactly 29 bytes, fixed positions.
        guard bytes.count == 29,
              bytes[3] == UInt8(ascii: ","), bytes[4] == UInt8(ascii: " "), bytes[7] == UInt8(ascii: " "),
              bytes[11] == UInt8(ascii: " "), bytes[16] == UInt8(ascii: " "), bytes[19] == UInt8(ascii: ":"),
              bytes[22] == UInt8(ascii: ":"), bytes[25] == UInt8(ascii: " "),
              String(decoding: bytes[26..<29], as: UTF8.self) == "GMT",
              days.contains(String(decoding: bytes[0..<3], as: UTF8.self)),
              let monthIndex = months.firstIndex(of: String(decoding: bytes[8..<11], as: UTF8.self)),
              let day = number(bytes[5..<7]), let year = number(bytes[12..<16]),
              let hour = number(bytes[17..<19]), let minute = number(bytes[20..<22]), let second = number(bytes[23..<25])
        else { return nil }
        let month = Int64(monthIndex + 1)
        // 60 is a leap second (RFC 5322 allows it); it reads as the next minute's first second.
        guard day >= 1, day <= daysIn(month: month, year: year), hour <= 23, minute <= 59, second <= 60 else { return nil }
        let instant = days(fromYear: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        // A leap second on 9999-12-31 would name year 10000, which no IMF-fixdate can write back.
        return instant <= latest ? instant : nil
    }

    /// Where a Double timestamp (possibly NaN, infinite or huge) lands in the nameable range.
    static func clampedSeconds(_ seconds: Double) -> Int64 {
        guard !seconds.isNaN else { return 0 }
        if seconds <= Double(earliest) { return earliest }
        if seconds >= Double(latest) { return latest }
        return Int64(seconds.rounded(.down))
    }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int64? {
        var value: Int64 = 0
        for b in digits {
            guard b >= 0x30 && b <= 0x39 else { return nil }
            value = value * 10 + Int64(b - 0x30)  // at most 4 digits: no overflow
        }
        return value
    }

    private static func isLeap(_ year: Int64) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// (quotient, remainder) rounding toward negative infinity.
    private static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b, r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (years counted from March, so the
    /// leap day ends the year; 400-year eras of 146097 days).
    private static func days(fromYear year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivMod(y, 400).0
        let yearOfEra = y - era * 400
        let shiftedMonth = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The inverse of `days(fromYear:month:day:)`.
    private static func civil(fromDays dayNumber: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = dayNumber + 719_468
        let era = floorDivMod(z, 146_097).0
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
