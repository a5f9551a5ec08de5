/// The `[storage]` table: where blobs and shared names live when not under the root.
extension HoardConfig {
    static func parseStorage(_ reader: TableReader, into config: inout HoardConfig) throws(ConfigError) {
        guard let storage = try reader.table("storage") else { return }
        try storage.expectOnly(["url", "endpoint", "region", "path_style", "redirect", "local_cache"])
        let url = try storage.string("url")
        let endpoint = try storage.string("endpoint")
        let region = try storage.string("region")
        let pathStyle = try storage.bool("path_style") ?? false
        let redirect = try storage.bool("redirect") ?? false
        let localCache = try storage.size("local_cache")
        guard let url else {
            // The other keys mean nothing without a bucket: name the one that is missing.
            if endpoint != nil || region != nil || pathStyle || redirect || localCache != nil {
                throw storage.invalid("url", expected: "present: the bucket, \"s3://BUCKET/PREFIX\", for the other [storage] keys to apply")
            }
            return
        }
        do {
            config.storage = try StorageSetting(
                url: url, endpoint: endpoint, region: region, pathStyle: pathStyle, redirect: redirect, localCache: localCache)
        } catch {
            let key = switch error.part {
            case .url: "url"
            case .endpoint: "endpoint"
            case .region: "region"
            }
            throw storage.invalid(key, expected: error.requirement)
        }
    }
}
