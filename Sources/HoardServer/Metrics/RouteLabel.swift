/// The `front` and `route` labels of a request, from its raw path alone: a fixed, small set, so
/// that metrics stay bounded whatever clients ask for. Cheap enough for the fast path (a scan of
/// the path, no allocation beyond the split of its last segment).
enum RouteLabel: Int, CaseIterable, Sendable {
    case condaRepodata, condaShardIndex, condaShard, condaPackage, condaChanneldata, condaOther
    case ociBase, ociCatalog, ociManifest, ociBlob, ociUpload, ociTags, ociReferrers, ociOther
    case health, metrics, token, index

    var front: String {
        switch self {
        case .condaRepodata, .condaShardIndex, .condaShard, .condaPackage, .condaChanneldata, .condaOther: "conda"
        case .ociBase, .ociCatalog, .ociManifest, .ociBlob, .ociUpload, .ociTags, .ociReferrers, .ociOther: "oci"
        case .health, .metrics, .token, .index: "plain"
        }
    }

    var route: String {
        switch self {
        case .condaRepodata: "repodata"
        case .condaShardIndex: "shard_index"
        case .condaShard: "shard"
        case .condaPackage: "package"
        case .condaChanneldata: "channeldata"
        case .condaOther, .ociOther: "other"
        case .ociBase: "base"
        case .ociCatalog: "catalog"
        case .ociManifest: "manifest"
        case .ociBlob: "blob"
        case .ociUpload: "upload"
        case .ociTags: "tags"
        case .ociReferrers: "referrers"
        case .health: "health"
        case .metrics: "metrics"
        case .token: "token"
        case .index: "index"
        }
    }

    /// The label of `path` (no query), as hoard's router splits fronts.
    static func classify(_ path: String) -> RouteLabel {
        let utf8 = path.utf8
        if path == "/" || path.isEmpty { return .index }
        if path == "/v2" || path.hasPrefix("/v2/") { return oci(path) }
        if path == "/healthz" || path.hasPrefix("/healthz/") { return .health }
        if path == "/metrics" { return .metrics }
        if path == "/token" || path.hasPrefix("/token/") { return .token }
        // A conda path: its last segment says what it is.
        let last = utf8.lastIndex(of: UInt8(ascii: "/")).map { path[path.index(after: $0)...] } ?? Substring(path)
        if last.hasSuffix(".conda") || last.hasSuffix(".tar.bz2") { return .condaPackage }
        if last.hasPrefix("repodata_shards") { return .condaShardIndex }
        if last.hasPrefix("repodata") || last.hasPrefix("current_repodata") { return .condaRepodata }
        if last.hasPrefix("channeldata") { return .condaChanneldata }
        if path.contains("/shards/") || last.hasSuffix(".msgpack.zst") || isHex64(last) { return .condaShard }
        return .condaOther
    }

    private static func oci(_ path: String) -> RouteLabel {
        if path == "/v2" || path == "/v2/" { return .ociBase }
        if path == "/v2/_catalog" { return .ociCatalog }
        if path.contains("/blobs/uploads") { return .ociUpload }
        if path.contains("/blobs/") { return .ociBlob }
        if path.contains("/manifests/") { return .ociManifest }
        if path.hasSuffix("/tags/list") { return .ociTags }
        if path.contains("/referrers/") { return .ociReferrers }
        return .ociOther
    }

    private static func isHex64(_ text: Substring) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}
