/// A check run before TOMLKit sees a config: TOML allows characters beyond ASCII only inside
/// strings and comments, and toml++ (inside TOMLKit 0.6.0) asserts, i.e. aborts the process,
/// on some of them elsewhere (`[\u{FFFD}erver]` as a table header, found by Fuzz/fuzz-config).
/// Rejecting them here turns that into an error naming the line, and rejects no valid TOML.
enum TOMLPrecheck {
    /// The 1-based line and column of the first non-ASCII character outside a string or a
    /// comment, or nil when there is none.
    static func firstMisplacedNonASCII(in text: String) -> (line: Int, column: Int)? {
        enum State { case normal, comment, basic, literal, multiBasic, multiLiteral }
        let scalars = Array(text.unicodeScalars)
        var state = State.normal
        var line = 1, column = 0
        var i = 0
        func starts(_ s: String, at index: Int) -> Bool {
            let needle = Array(s.unicodeScalars)
            return index + needle.count <= scalars.count && Array(scalars[index..<(index + needle.count)]) == needle
        }
        while i < scalars.count {
            let c = scalars[i]
            column += 1
            if c == "\n" { line += 1; column = 0 }
            switch state {
            case .normal:
                if !c.isASCII { return (line, column) }
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
