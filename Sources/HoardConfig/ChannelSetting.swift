/// One channel hoard serves: `name = "upstream URL"` in `[channels]`, or `--upstream NAME=URL`.
public struct ChannelSetting: Sendable, Equatable {
    public let name: String
    public let url: String

    /// Why a channel setting is unusable, phrased as what it must be.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let requirement: String
        public var description: String { requirement }
    }

    /// Paths the server answers itself; no channel may take these names.
    public static let reservedNames: Set<String> = ["v2", "token", "healthz", "metrics"]

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
