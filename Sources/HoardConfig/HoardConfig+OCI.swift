/// The `[oci]` and `[tls]` tables, kept apart from the other tables so each front's settings
/// stay in one place.
extension HoardConfig {
    static func parseOCI(_ reader: TableReader, into config: inout HoardConfig) throws(ConfigError) {
        if let oci = try reader.table("oci") {
            try oci.expectOnly([
                "htpasswd", "auth_reads", "registry_tag_ttl", "conda_namespace", "max_upload_size", "max_upload_sessions",
                "auth_failures_per_minute",
            ])
            config.ociMaxUploadSize = try oci.size("max_upload_size", allowZero: false)
            config.ociMaxUploadSessions = try oci.positiveInt("max_upload_sessions")
            config.ociAuthFailuresPerMinute = try oci.positiveInt("auth_failures_per_minute")
            config.registryTagTTL = try oci.duration("registry_tag_ttl")
            config.ociHtpasswd = try oci.string("htpasswd").map(Self.expandingTilde)
            config.ociAuthReads = try oci.bool("auth_reads")
            config.ociCondaNamespace = try oci.string("conda_namespace")
        }
        if let tls = try reader.table("tls") {
            try tls.expectOnly(["cert", "key"])
            config.tlsCert = try tls.string("cert").map(Self.expandingTilde)
            config.tlsKey = try tls.string("key").map(Self.expandingTilde)
            if (config.tlsCert == nil) != (config.tlsKey == nil) {
                throw tls.invalid(config.tlsCert == nil ? "cert" : "key", expected: "a PEM file path: [tls] needs both cert and key")
            }
        }
    }
}

extension TableReader {
    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let value = table[key] else { return nil }
        guard let bool = value.bool else { throw invalid(key, expected: "true or false") }
        return bool
    }
}
