/// Finds the line of a key in TOML source text, so that errors about a value (which the parser
/// accepted as TOML) can still point at the line to fix.
///
/// It follows `[table]` headers and `key =` lines; that is all a hand-written config needs.
struct KeyLocator {
    private var lines: [String: Int] = [:]

    init(source: String) {
        var table = ""
        for (number, raw) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix("[") && !line.hasPrefix("[[") {
                let name = line.dropFirst().prefix { $0 != "]" }
                table = Self.unquote(name)
                lines[table] = lines[table] ?? number + 1
            } else if let equals = line.firstIndex(of: "="), !line.hasPrefix("#") {
                let key = Self.unquote(line[..<equals])
                let path = table.isEmpty ? key : table + "." + key
                lines[path] = lines[path] ?? number + 1
            }
        }
    }

    /// The line of `table.key` (or of `table` itself), 1-based.
    func line(of path: String) -> Int? { lines[path] }

    private static func unquote(_ text: Substring) -> String {
        var text = text.trimmingSpaces()
        if text.count >= 2, let first = text.first, first == "\"" || first == "'", text.last == first {
            text = String(text.dropFirst().dropLast())
        }
        return text
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}
