/// `[channels]`: `NAME = "URL"`, or a `[channels.NAME]` table with `url` and the channel's other
/// settings (upstream credentials, who may read it).
extension HoardConfig {
    static let channelKeys = ["url", "username", "password", "token", "readers", "private"]

    static func parseChannel(_ name: String, in channels: TableReader, environment: [String: String]) throws(ConfigError) -> ChannelSetting {
        guard channels.table[name]?.table != nil, let table = try channels.table(name) else {
            guard let url = channels.table[name]?.string else {
                throw channels.invalid(name, expected: "a channel URL in quotes, or a table ([channels.\(name)]) with url")
            }
            do { return try ChannelSetting(name: name, url: url) } catch { throw channels.invalid(name, expected: error.requirement) }
        }
        try table.expectOnly(channelKeys)
        guard let rawURL = try table.string("url") else {
            throw table.invalid("url", expected: "the channel's upstream URL: [channels.\(name)] needs url")
        }
        let url = try table.expanded("url", rawURL, environment)
        var setting: ChannelSetting
        do { setting = try ChannelSetting(name: name, url: url) } catch { throw table.invalid("url", expected: error.requirement) }
        let username = try table.string("username").map { (raw) throws(ConfigError) in try table.expanded("username", raw, environment) }
        let password = try table.string("password").map { (raw) throws(ConfigError) in try table.expanded("password", raw, environment) }
        let token = try table.string("token").map { (raw) throws(ConfigError) in try table.expanded("token", raw, environment) }
        switch (username, password, token) {
        case (nil, nil, nil):
            break
        case (let user?, let password?, nil):
            setting.upstreamCredentials = .basic(username: user, password: password)
        case (nil, nil, let token?):
            guard !token.isEmpty else { throw table.invalid("token", expected: "a bearer token that is not empty") }
            setting.upstreamCredentials = .bearer(token)
        case (_, _, .some):
            throw table.invalid("token", expected: "alone: a channel's upstream takes a bearer token or username and password, not both")
        case (nil, .some, nil):
            throw table.invalid("password", expected: "given with username")
        case (.some, nil, nil):
            throw table.invalid("username", expected: "given with password")
        }
        setting.readers = try table.string("readers").map(Self.expandingTilde)
        setting.isPrivate = try table.bool("private") ?? false
        return setting
    }
}

extension TableReader {
    /// `${NAME}` replaced by the environment variable NAME; an unset one is an error naming it
    /// (the value itself never appears in an error: it may be a secret).
    func expanded(_ key: String, _ text: String, _ environment: [String: String]) throws(ConfigError) -> String {
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            let after = rest[start.upperBound...]
            guard let end = after.firstIndex(of: "}") else {
                throw invalid(key, expected: "a value whose ${ is closed by } (write ${NAME} for the environment variable NAME)")
            }
            let name = String(after[..<end])
            let valid = !name.isEmpty && name.unicodeScalars.allSatisfy {
                ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
            }
            guard valid else { throw invalid(key, expected: "a value whose ${...} names an environment variable (letters, digits, '_')") }
            guard let value = environment[name] else {
                throw invalid(key, expected: "a value whose environment variable \(name) is set (it is not, in hoard's environment)")
            }
            out += value
            rest = after[after.index(after: end)...]
        }
        return out + rest
    }
}
