/// A channel hoard serves: a local name and the upstream it pulls through from.
public struct CondaChannel: Sendable, Hashable {
    public let name: String
    /// The upstream channel's base URL, e.g. `https://conda.anaconda.org/conda-forge`.
    public let upstream: String

    public init(name: String, upstream: String) {
        self.name = name
        var upstream = upstream
        while upstream.hasSuffix("/") { upstream.removeLast() }
        self.upstream = upstream
    }

    /// conda-forge from anaconda.org: what hoard serves with no configuration.
    public static let condaForge = CondaChannel(name: "conda-forge", upstream: "https://conda.anaconda.org/conda-forge")

    /// The upstream URL of a file of this channel.
    func upstreamURL(label: String, subdir: String, file: String) -> String {
        var url = upstream
        if !label.isEmpty { url += "/label/" + label }
        if !subdir.isEmpty { url += "/" + subdir }
        return url + "/" + file
    }
}
