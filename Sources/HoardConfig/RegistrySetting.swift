/// One upstream registry pulled through under a prefix: `name = "url"` in `[registries]`, or
/// `--registry NAME=URL`. Clients then pull `/v2/<name>/<repository>/…`.
public struct RegistrySetting: Sendable, Equatable {
    public let name: String
    public let url: String

    public init(name: String, url: String) throws(ChannelSetting.Invalid) {
        // The name becomes the first component of OCI repository names: the OCI name grammar.
        let bytes = Array(name.utf8)
        let alnum: (UInt8) -> Bool = { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) }
        let separator: (UInt8) -> Bool = { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
        guard let first = bytes.first, let last = bytes.last, alnum(first), alnum(last), bytes.count <= 64,
            bytes.allSatisfy({ alnum($0) || separator($0) })
        else {
            throw ChannelSetting.Invalid(requirement: "a registry name of lowercase letters, digits, '.', '_' and '-' that starts and ends with a letter or digit, e.g. ghcr.io")
        }
        guard url.hasPrefix("https://") || url.hasPrefix("http://"), url.count > 8, !url.contains("?") else {
            throw ChannelSetting.Invalid(requirement: "an https:// (or, for a plain-http registry, http://) registry URL, e.g. \"https://ghcr.io\"")
        }
        self.name = name
        self.url = url
    }

    /// Parses `NAME=URL` from the command line.
    public init(argument: String) throws(ChannelSetting.Invalid) {
        guard let equals = argument.firstIndex(of: "=") else {
            throw ChannelSetting.Invalid(requirement: "NAME=URL, e.g. ghcr.io=https://ghcr.io")
        }
        try self.init(name: String(argument[..<equals]), url: String(argument[argument.index(after: equals)...]))
    }
}
