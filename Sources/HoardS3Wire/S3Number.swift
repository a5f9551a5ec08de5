// What S3 answers are made of (XML documents, numbers, timestamps), parsed with checked
// conversions and no I/O: a target of its own so that the fuzzer (Fuzz/) builds it alone.
import Foundation

/// Checked number parsing for values from the network.
public enum S3Number {
    /// A non-negative decimal that fits Int64; nil for anything else (signs, spaces, overflow).
    public static func nonNegative(_ text: some StringProtocol) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int64(trimmed)
    }
}
