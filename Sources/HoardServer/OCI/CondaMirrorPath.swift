import HoardConda
import HoardOCI

/// A repository name under the conda mirror namespace, split the way the channel-mirrors layout
/// names things: `<namespace>/<channel>/<subdir>/<leaf>` (wire contract §1.1).
struct CondaMirrorPath: Sendable, Hashable {
    enum Leaf: Sendable, Hashable {
        /// `repodata.json` (and `repodata.json.zst`, which mamba asks for with its default
        /// `repodata_use_zst`): the subdir's repodata, tag `latest` or the dated one.
        case repodata
        /// `<name'>`: a package's repository (`zzz` prefix for names starting with `_`).
        case package(component: String)
        /// `repodata.json/shards`: the CEP-16 shards, tag = a shard's sha256 hex (wire contract §1.5).
        case shards
        /// Anything else (`repodata_shards.msgpack.zst`, …): no
        /// manifests (rattler and mamba then fall back), but blobs of the channel still resolve.
        case other(String)
    }

    let channel: String
    let subdir: Subdir
    let leaf: Leaf

    /// What a name under the namespace turned out to be.
    enum Parsed: Sendable, Hashable {
        case path(CondaMirrorPath)
        /// Under the namespace but not `<channel>/<subdir>/<leaf>` (too short, a bad subdir):
        /// the mirror answers it (404 NAME_UNKNOWN) rather than the pushed-content registry.
        case invalid(reason: String)
    }

    /// nil when `name` is not under `namespace` (the rest of the registry answers it).
    static func parse(_ name: RepositoryName, namespace: String) -> Parsed? {
        guard name.value == namespace || name.value.hasPrefix(namespace + "/") else { return nil }
        let rest = name.value.dropFirst(namespace.count).split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard rest.count >= 3 else {
            return .invalid(reason: "conda mirror repositories are \(namespace)/<channel>/<subdir>/<package or repodata.json>")
        }
        let parts = Array(rest)
        guard let subdir = try? Subdir(String(parts[1])) else {
            return .invalid(reason: "\"\(parts[1])\" is not a conda subdir (noarch, linux-64, osx-arm64, …)")
        }
        let tail = parts[2...].joined(separator: "/")
        let leaf: Leaf
        if tail == "repodata.json" || tail == "repodata.json.zst" {
            leaf = .repodata
        } else if tail == "repodata.json/shards" {
            leaf = .shards
        } else if parts.count == 3 && !Self.documentNames.contains(tail) {
            leaf = .package(component: tail)
        } else {
            leaf = .other(tail)
        }
        return .path(CondaMirrorPath(channel: String(parts[0]), subdir: subdir, leaf: leaf))
    }

    /// Channel documents that clients map to repositories of their own (never packages).
    private static let documentNames: Set<String> = [
        "repodata_shards.msgpack.zst", "repodata_shards.msgpack", "current_repodata.json", "repodata.json.bz2",
        "repodata.json.gz", "channeldata.json",
    ]

    /// The repository's name under `namespace`, for messages and `Link` headers.
    func repository(namespace: String) -> String {
        let tail: String
        switch leaf {
        case .repodata: tail = "repodata.json"
        case .shards: tail = "repodata.json/shards"
        case .package(let component): tail = component
        case .other(let text): tail = text
        }
        return "\(namespace)/\(channel)/\(subdir.rawValue)/\(tail)"
    }
}
