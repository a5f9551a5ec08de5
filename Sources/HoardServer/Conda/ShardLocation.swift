import Foundation
import HoardConda

/// Where an upstream keeps the shards its CEP-16 index names.
///
/// CEP-16: shards are at `<shards_base_url><sha256>.msgpack.zst`, and `shards_base_url` (absolute
/// or relative) is relative to the shard index. Clients treat the resolved value as a directory:
/// rattler resolves it against `<channel>/<subdir>/` and adds a trailing `/`; conda joins it to
/// the index URL, keeps the directory and adds a trailing `/`. Both make `""` the index's own
/// directory (conda-index's layout), `./shards/` its `shards/` (rattler-index's), `../x` the
/// sibling directory `x/`. hoard fetches from the same place.
enum ShardLocation {
    /// The upstream directory of the shards, ending in `/`; nil when the value does not resolve
    /// to an http(s) URL (nothing hoard could fetch). A missing key counts as `""`, as in conda.
    static func directory(shardsBaseURL: String?, indexURL: String) -> String? {
        guard let index = URL(string: indexURL), let subdir = URL(string: "./", relativeTo: index)?.absoluteURL else { return nil }
        let reference = shardsBaseURL ?? ""
        let resolved = reference.isEmpty ? subdir : URL(string: reference, relativeTo: subdir)?.absoluteURL
        guard let resolved, let scheme = resolved.scheme?.lowercased(), scheme == "http" || scheme == "https",
              resolved.host != nil else { return nil }
        let text = resolved.absoluteString
        return text.hasSuffix("/") ? text : text + "/"
    }

    /// The upstream URL of one shard. `directory` is what `directory(...)` returned; a value
    /// without the trailing `/` (an index row written by an older hoard, from an absolute
    /// `shards_base_url` without one) is a directory all the same, as clients read it.
    static func shardURL(directory: String, hex: String) -> String {
        (directory.hasSuffix("/") ? directory : directory + "/") + hex + CondaRequestPath.shardSuffix
    }
}

