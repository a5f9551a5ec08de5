/// One channel hoard serves: `name = "upstream URL"` in `[channels]`, a `[channels.NAME]` table
/// with `url` and the channel's other settings, or `--upstream NAME=URL`.
public struct ChannelSetting: Sendable, Equatable {
    public let name: String
    public let url: String
    /// Credentials for the upstream from the channel's table (after `${ENV}` expansion); nil:
    /// look them up in RATTLER_AUTH_FILE and ~/.netrc.
    public var upstreamCredentials: UpstreamCredentialSetting?
    /// `readers`: an htpasswd file (bcrypt) of the users who may read this channel.
    public var readers: String?
    /// `private = true`: only readers and holders of a `hoard token` may read this channel
    /// (implied by `readers`).
    public var isPrivate = false

    /// Whether reading the channel needs credentials.
    public var isProtected: Bool { isPrivate || readers != nil }

    /// Why a channel setting is unusable, phrased as what it must be.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let requirement: String
        public var description: String { requirement }
    }

    /// Paths the server answers itself; no channel may take these names.
    /// `t` is conda's token prefix (`/t/<TOKEN>/<channel>/…`).
    public static let reservedNames: Set<String> = ["v2", "token", "healthz", "t", "metrics"]

    public init(name: String, url: String) throws(Invalid) {
        let allowed = name.unicodeScalars.allSatisfy { (("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }
        guard !name.isEmpty, name.count <= 128, allowed, name.first != ".", name.first != "-" else {
            throw Invalid(requirement: "a channel name made of letters, digits, '.', '_' and '-' (not starting with '.' or '-')")
        }
        guard !Self.reservedNames.contains(name) else {
            throw Invalid(requirement: "a channel name other than \(Self.reservedNames.sorted().joined(separator: ", ")), which hoard answers itself")
        }
        let schemes = ["https://", "http://", "oci://", "oci+http://"]
        guard let scheme = schemes.first(where: { url.hasPrefix($0) }), url.count > scheme.count else {
            throw Invalid(requirement: "an http:// or https:// channel URL, e.g. \"https://conda.anaconda.org/conda-forge\", or an OCI mirror such as \"oci://ghcr.io/channel-mirrors/conda-forge\" (oci+http:// for a plain-http registry)")
        }
        // A mirror names its registry and at least the channel's repository path.
        if scheme.hasPrefix("oci") {
            let rest = url.dropFirst(scheme.count)
            guard let slash = rest.firstIndex(of: "/"), slash != rest.startIndex, rest.index(after: slash) != rest.endIndex else {
                throw Invalid(requirement: "an OCI mirror as oci://HOST[:PORT]/PATH/CHANNEL, e.g. \"oci://ghcr.io/channel-mirrors/conda-forge\"")
            }
        }
        self.name = name
        self.url = url
    }

    /// Parses `NAME=URL` from the command line.
    public init(argument: String) throws(Invalid) {
        guard let equals = argument.firstIndex(of: "=") else {
            throw Invalid(requirement: "NAME=URL, e.g. conda-forge=https://conda.anaconda.org/conda-forge")
        }
        try self.init(name: String(argument[..<equals]), url: String(argument[argument.index(after: equals)...]))
    }
}
