import HoardUpstream

/// A channel hoard serves: a local name and the upstream it pulls through from.
public struct CondaChannel: Sendable, Hashable {
    public let name: String
    /// The upstream channel's base URL, e.g. `https://conda.anaconda.org/conda-forge`.
    public let upstream: String
    /// An HTTP channel for packages the upstream lacks (an OCI mirror's repodata lists packages
    /// it never pushed); nil: none.
    public let fallback: String?
    /// The upstream credential from the channel's config table; nil: the URL's token,
    /// RATTLER_AUTH_FILE or ~/.netrc, if any.
    public var upstreamCredential: UpstreamCredential?
    /// An htpasswd file (bcrypt) of the users who may read the channel.
    public var readers: String?
    /// Only readers and holders of a `hoard token` for the channel may read it (implied by `readers`).
    public var isPrivate = false

    /// Whether reading the channel needs credentials.
    public var isProtected: Bool { isPrivate || readers != nil }

    /// This channel with another upstream (and fallback), keeping who may read it; a configured
    /// credential stays only while the upstream's host is the same.
    public func replacingUpstream(_ upstream: String, fallback: String?) -> CondaChannel {
        var channel = CondaChannel(name: name, upstream: upstream, fallback: fallback)
        channel.readers = readers
        channel.isPrivate = isPrivate
        if upstream == self.upstream { channel.upstreamCredential = upstreamCredential }
        return channel
    }

    public init(name: String, upstream: String, fallback: String? = nil) {
        self.name = name
        self.fallback = fallback.map { var f = $0; while f.hasSuffix("/") { f.removeLast() }; return f }
        var upstream = upstream
        while upstream.hasSuffix("/") { upstream.removeLast() }
        self.upstream = upstream
    }

    /// conda-forge from anaconda.org: what hoard serves with no configuration.
    public static let condaForge = CondaChannel(name: "conda-forge", upstream: "https://conda.anaconda.org/conda-forge")

    /// Whether the upstream is a conda-oci-mirror layout in a registry (`oci://`, `oci+http://`).
    var isOCIMirror: Bool { upstream.hasPrefix("oci://") || upstream.hasPrefix("oci+http://") }

    /// The upstream URL of a file of this channel.
    func upstreamURL(label: String, subdir: String, file: String) -> String {
        Self.url(upstream, label: label, subdir: subdir, file: file)
    }

    static func url(_ base: String, label: String, subdir: String, file: String) -> String {
        var url = base
        if !label.isEmpty { url += "/label/" + label }
        if !subdir.isEmpty { url += "/" + subdir }
        return url + "/" + file
    }
}
