import HoardStore
import Testing

/// Durations come from the command line and the config file: no value may trap.
@Suite struct DurationParsingTests {
    @Test func unitsAndPlainSeconds() {
        #expect(DurationParsing.parse("30s") == .seconds(30))
        #expect(DurationParsing.parse("10m") == .seconds(600))
        #expect(DurationParsing.parse(" 2h ") == .seconds(7200))
        #expect(DurationParsing.parse("1d") == .seconds(86400))
        #expect(DurationParsing.parse("45") == .seconds(45))
    }

    @Test func valuesThatWouldOverflowAreRefusedNotTrapped() {
        // 999999999999999 days overflowed Int64 seconds and crashed `hoard serve --repodata-ttl`.
        #expect(DurationParsing.parse("999999999999999d") == nil)
        #expect(DurationParsing.parse("9223372036854775807h") == nil)
        #expect(DurationParsing.parse("99999999999999999999") == nil)
        #expect(DurationParsing.parse("101y") == nil)
        #expect(DurationParsing.parse("36501d") == nil)
        #expect(DurationParsing.parse("36500d") == .seconds(DurationParsing.maximumSeconds))
    }

    @Test func malformedValuesAreRefused() {
        for text in ["", "s", "-5s", "1.5h", "10 m", "abc", "٣s"] {
            #expect(DurationParsing.parse(text) == nil, "\(text)")
        }
    }
}
