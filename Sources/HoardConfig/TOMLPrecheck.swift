/// A check run before TOMLKit sees a config. TOML allows characters beyond ASCII only inside
/// strings and comments, and control characters (but tab, LF, CR) nowhere unescaped; toml++
/// (inside TOMLKit 0.6.0) fails an assert(), i.e. aborts the process, on some of them in a key
/// (`[\u{FFFD}erver]`, `[\u{01}...`: found by Fuzz/fuzz-config). Rejecting them here turns that
/// into an error naming the line, and rejects no valid TOML.
///
/// toml++ also assumes (`TOML_ASSERT_ASSUME`: an abort in a debug build, undefined behaviour in a
/// release one) that a value never starts with `}`, and its array parser breaks that for `[}` and
/// `[1, }`. A `}` right after `[` or `,` is never valid TOML 1.0, the version toml++ reads here
/// (an inline table takes no trailing comma until TOML 1.1, which toml++ leaves off by default and
/// refuses too), so it is rejected here as well.
enum TOMLPrecheck {
    /// Where the text first goes wrong, and how.
    struct Misplaced: Equatable {
        var line: Int
        var column: Int
        var message: String
    }

    static let badCharacter =
        "a control character, or one beyond ASCII outside a string or comment (TOML allows neither)"
    static let braceWithoutValue = "'}' where a value belongs (after '[' or ',')"

    /// The first control character (but tab, LF, CR), the first non-ASCII character outside a string
    /// or a comment, or the first `}` right after `[` or `,`; nil when there is none.
    static func firstMisplacedCharacter(in text: String) -> Misplaced? {
        enum State { case normal, comment, basic, literal, multiBasic, multiLiteral }
        let scalars = Array(text.unicodeScalars)
        var state = State.normal
        var line = 1, column = 0
        var i = 0
        var atLineStart = true
        // The last character outside strings and comments but whitespace.
        var lastSignificant: Unicode.Scalar = "\n"
        func isKeyStart(_ c: Unicode.Scalar) -> Bool {
            c.isASCII && (("A"..."Z").contains(c) || ("a"..."z").contains(c) || ("0"..."9").contains(c)
                || c == "_" || c == "-" || c == "\"" || c == "'")
        }
        func starts(_ s: String, at index: Int) -> Bool {
            let needle = Array(s.unicodeScalars)
            return index + needle.count <= scalars.count && Array(scalars[index..<(index + needle.count)]) == needle
        }
        while i < scalars.count {
            let c = scalars[i]
            column += 1
            if c == "\n" { line += 1; column = 0; if state != .multiBasic && state != .multiLiteral { atLineStart = true } }
            if (c.value < 0x20 && c != "\t" && c != "\n" && c != "\r") || c.value == 0x7F {
                return Misplaced(line: line, column: max(column, 1), message: badCharacter)
            }
            switch state {
            case .normal:
                if !c.isASCII { return Misplaced(line: line, column: column, message: badCharacter) }
                if c == "}" && (lastSignificant == "[" || lastSignificant == ",") {
                    return Misplaced(line: line, column: column, message: braceWithoutValue)
                }
                if c != " " && c != "\t" && c != "\n" && c != "\r" && c != "#" { lastSignificant = c }
                if atLineStart && c == "[" {
                    // A table header names a key on its own line: `[\n` made toml++ assert too.
                    var j = i + 1
                    if j < scalars.count && scalars[j] == "[" { j += 1 }
                    while j < scalars.count && (scalars[j] == " " || scalars[j] == "\t") { j += 1 }
                    guard j < scalars.count, isKeyStart(scalars[j]) else {
                        return Misplaced(line: line, column: column, message: "a table header with no key after its '['")
                    }
                }
                if c != " " && c != "\t" && c != "\n" && c != "\r" { atLineStart = false }
                if c == "#" { state = .comment }
                else if starts("\"\"\"", at: i) { state = .multiBasic; i += 2; column += 2 }
                else if starts("'''", at: i) { state = .multiLiteral; i += 2; column += 2 }
                else if c == "\"" { state = .basic }
                else if c == "'" { state = .literal }
            case .comment:
                if c == "\n" { state = .normal }
            case .basic:
                if c == "\\" { i += 1; column += 1 }  // the escaped character (if any) stays inside
                else if c == "\"" || c == "\n" { state = .normal }
            case .literal:
                if c == "'" || c == "\n" { state = .normal }
            case .multiBasic:
                if c == "\\" { i += 1; column += 1 }
                else if starts("\"\"\"", at: i) { state = .normal; i += 2; column += 2 }
            case .multiLiteral:
                if starts("'''", at: i) { state = .normal; i += 2; column += 2 }
            }
            i += 1
        }
        return nil
    }
}
