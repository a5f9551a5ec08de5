/// A channel hoard serves: a local name and the upstream it pulls through from.
public struct CondaChannel: Sendable, Hashable {
    public let name: String
    /// The upstream channel's base URL, e.g. `https://conda.anaconda.org/conda-forge`.
    public let upstream: String
    /// An HTTP channel for packages the upstream lacks (an OCI mirror's repodata lists packages
    /// it never pushed); nil: none.
    public let fallback: String?

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
