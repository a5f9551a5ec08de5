import Foundation

/// An Apache htpasswd file restricted to bcrypt entries (`htpasswd -B`).
///
/// Other schemes ($apr1$ MD5, {SHA}, crypt, plain) are rejected when the file is loaded rather
/// than silently never matching, so a misconfigured user learns about it at startup.
public struct Htpasswd: Sendable {
    public private(set) var users: [String: String]

    /// A bcrypt hash of a random string (cost 5, htpasswd's default), checked for unknown users when
    /// the file is empty, so "no such user" still costs a bcrypt.
    private static let dummyHash = "$2y$05$kD9pzeVb4ALnx42lyWXh8.eVrp0IUGLUTDN9zkjcA1uLCXOaiiyeu"

    public init(contents: String, source: String = "htpasswd") throws(HtpasswdError) {
        var users: [String: String] = [:]
        var lineNumber = 0
        // "\r\n" is one Character in Swift, so split on both spellings of a line end.
        for rawLine in contents.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            var line = rawLine
            if line.last == "\r" { line = line.dropLast() }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":") else {
                throw .malformedLine(source: source, line: lineNumber, reason: "expected user:hash")
            }
            let user = String(line[..<colon])
            let hash = String(line[line.index(after: colon)...])
            guard !user.isEmpty else {
                throw .malformedLine(source: source, line: lineNumber, reason: "empty user name")
            }
            guard Bcrypt.isBcrypt(hash) else {
                throw .unsupportedScheme(source: source, line: lineNumber, user: user, scheme: Self.schemeName(hash))
            }
            guard users[user] == nil else {
                throw .duplicateUser(source: source, line: lineNumber, user: user)
            }
            users[user] = hash
        }
        self.users = users
    }

    /// Reads and parses the file at `path`.
    public init(path: String) throws(HtpasswdError) {
        let contents: String
        do { contents = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        try self.init(contents: contents, source: path)
    }

    /// True when `user` exists and `password` matches. Costs one bcrypt either way.
    public func verify(user: String, password: String) -> Bool {
        guard let hash = users[user] else {
            // Hash against an existing entry (same cost as real users) so timing does not reveal
            // whether the user exists; the result is discarded.
            _ = Bcrypt.verify(password: password, hash: users.values.min() ?? Self.dummyHash)
            return false
        }
        return Bcrypt.verify(password: password, hash: hash)
    }

    public func verify(_ credentials: BasicCredentials) -> Bool {
        verify(user: credentials.username, password: credentials.password)
    }

    private static func schemeName(_ hash: String) -> String {
        if hash.hasPrefix("$apr1$") { return "Apache MD5 ($apr1$)" }
        if hash.hasPrefix("{SHA}") { return "SHA-1 ({SHA})" }
        if hash.hasPrefix("$1$") { return "MD5-crypt ($1$)" }
        if hash.hasPrefix("$5$") || hash.hasPrefix("$6$") { return "SHA-crypt" }
        if hash.isEmpty { return "empty hash" }
        return "crypt or plain text"
    }
}

public enum HtpasswdError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case malformedLine(source: String, line: Int, reason: String)
    case unsupportedScheme(source: String, line: Int, user: String, scheme: String)
    case duplicateUser(source: String, line: Int, user: String)

    public var message: String {
        switch self {
        case .unreadable(let p, let r): "cannot read htpasswd file \(p): \(r)"
        case .malformedLine(let s, let l, let r): "\(s):\(l): \(r)"
        case .unsupportedScheme(let s, let l, let u, let scheme):
            "\(s):\(l): user \"\(u)\" uses \(scheme); only bcrypt is supported, recreate it with `htpasswd -B \(s) \(u)`"
        case .duplicateUser(let s, let l, let u): "\(s):\(l): user \"\(u)\" appears more than once"
        }
    }

    public var description: String { message }
}
