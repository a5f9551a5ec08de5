import Foundation

/// `~/.netrc` (or `$NETRC`): `machine HOST login USER password PASS` entries, and `default`.
public struct Netrc: Sendable {
    public let path: String
    let machines: [String: (login: String, password: String)]
    let fallback: (login: String, password: String)?

    /// Reads the file; nil when it does not exist.
    public static func load(path: String) throws -> Netrc? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return Netrc(text: text, path: path)
    }

    public init(text: String, path: String) {
        self.path = path
        var machines: [String: (String, String)] = [:]
        var fallback: (String, String)?
        var words: [Substring] = []
        // macdef bodies run to the next empty line: drop them before splitting into words.
        var inMacro = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if inMacro {
                if line.trimmingCharacters(in: .whitespaces).isEmpty { inMacro = false }
                continue
            }
            let lineWords = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if let index = lineWords.firstIndex(of: "macdef") {
                words += lineWords[..<index]
                inMacro = true
                continue
            }
            words += lineWords
        }
        var current: String?? = nil  // .some(nil): the default entry
        var login: String?
        var password: String?
        func finish() {
            guard let current, let login, let password else { return }
            if let machine = current { if machines[machine] == nil { machines[machine] = (login, password) } } else if fallback == nil { fallback = (login, password) }
        }
        var index = 0
        while index < words.count {
            let word = words[index]
            let value = index + 1 < words.count ? String(words[index + 1]) : nil
            switch word {
            case "machine":
                finish()
                current = .some(value?.lowercased())
                login = nil
                password = nil
                index += 2
            case "default":
                finish()
                current = .some(nil)
                login = nil
                password = nil
                index += 1
            case "login":
                login = value
                index += 2
            case "password":
                password = value
                index += 2
            case "account":
                index += 2
            default:
                index += 1
            }
        }
        finish()
        self.machines = machines
        self.fallback = fallback
    }

    /// The entry for `host` (exact machine name), else `default`.
    public func credential(host: String) -> (machine: String, login: String, password: String)? {
        if let entry = machines[host] { return (host, entry.login, entry.password) }
        if let fallback { return ("default", fallback.login, fallback.password) }
        return nil
    }
}
