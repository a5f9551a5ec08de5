import Foundation

/// Where the bucket is: endpoint, bucket, key prefix, region and addressing style.
/// Keys given to `S3Client` are relative to `prefix`; the client puts `prefix/` in front.
public struct S3Location: Sendable, Hashable, CustomStringConvertible {
    public let bucket: String
    /// The key prefix without leading or trailing `/` ("" for the bucket's root).
    public let prefix: String
    /// The endpoint as given, e.g. `https://s3.eu-west-1.amazonaws.com` or `http://127.0.0.1:8333`.
    public let endpoint: String
    public let region: String
    /// Path-style addressing (`endpoint/bucket/key`) instead of virtual-hosted (`bucket.endpoint/key`).
    public let pathStyle: Bool
    /// `http` or `https`.
    public let scheme: String
    /// Host name of the endpoint (no port).
    public let endpointHost: String
    /// Port when the endpoint names one.
    public let port: Int?
    /// A path the endpoint carries before the bucket (rare; "" usually), without trailing `/`.
    public let endpointPath: String

    public init(bucket: String, prefix: String, endpoint: String, region: String = "us-east-1", pathStyle: Bool = false) throws(S3Error) {
        guard Self.isValidBucketName(bucket) else {
            throw .invalidLocation("bucket name '\(bucket)' is not valid: use 3-63 characters a-z, 0-9, '.', '-'")
        }
        guard !region.isEmpty, region.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") }) else {
            throw .invalidLocation("region '\(region)' is not valid")
        }
        // An endpoint without a scheme is https (never plain http by accident).
        let withScheme = endpoint.contains("://") ? endpoint : "https://" + endpoint
        guard let components = URLComponents(string: withScheme), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty else {
            throw .invalidLocation("S3 endpoint '\(endpoint)' is not a URL such as https://s3.example.com or http://127.0.0.1:8333")
        }
        guard components.query == nil, components.fragment == nil, components.user == nil else {
            throw .invalidLocation("S3 endpoint '\(endpoint)' must not carry a query, fragment or user")
        }
        if let port = components.port, !(1...65535).contains(port) {
            throw .invalidLocation("S3 endpoint '\(endpoint)' has an invalid port")
        }
        // Virtual-hosted addressing puts the bucket into the host name: a dotted bucket would break
        // the TLS certificate match, and an IP address cannot take a subdomain.
        if !pathStyle, Self.isIPAddress(host) {
            throw .invalidLocation("S3 endpoint '\(endpoint)' is an IP address: use path-style addressing (--s3-path-style)")
        }
        self.bucket = bucket
        self.prefix = prefix.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        self.endpoint = endpoint
        self.region = region
        self.pathStyle = pathStyle
        self.scheme = scheme
        self.endpointHost = host.lowercased()
        self.port = components.port
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        self.endpointPath = path
    }

    /// Parses `s3://BUCKET/PREFIX` (the `--storage` value) with the endpoint settings.
    public static func parse(storage: String, endpoint: String, region: String?, pathStyle: Bool) throws(S3Error) -> S3Location {
        guard storage.hasPrefix("s3://") else {
            throw .invalidLocation("storage '\(storage)' is not of the form s3://BUCKET/PREFIX")
        }
        let rest = storage.dropFirst("s3://".count)
        let bucket: Substring
        let prefix: Substring
        if let slash = rest.firstIndex(of: "/") {
            bucket = rest[..<slash]
            prefix = rest[rest.index(after: slash)...]
        } else {
            bucket = rest
            prefix = ""
        }
        guard !bucket.isEmpty else { throw .invalidLocation("storage '\(storage)' names no bucket: use s3://BUCKET/PREFIX") }
        return try S3Location(bucket: String(bucket), prefix: String(prefix), endpoint: endpoint, region: region ?? "us-east-1", pathStyle: pathStyle)
    }

    /// The host (and port when given) requests go to, as sent in `Host`.
    public var authority: String {
        let host = pathStyle ? endpointHost : bucket + "." + endpointHost
        let bracketed = host.contains(":") ? "[\(host)]" : host
        if let port { return bracketed + ":\(port)" }
        return bracketed
    }

    /// The full object key for a key relative to the prefix.
    public func objectKey(_ key: String) -> String {
        prefix.isEmpty ? key : prefix + "/" + key
    }

    /// The key relative to the prefix, or nil when `objectKey` is not under it.
    public func relativeKey(_ objectKey: String) -> String? {
        if prefix.isEmpty { return objectKey }
        let head = prefix + "/"
        guard objectKey.hasPrefix(head) else { return nil }
        return String(objectKey.dropFirst(head.count))
    }

    public var description: String {
        "s3://\(bucket)/\(prefix) at \(endpoint)"
    }

    static func isValidBucketName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count) else { return false }
        return bytes.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
        } && bytes.first != UInt8(ascii: "-") && bytes.first != UInt8(ascii: ".")
            && bytes.last != UInt8(ascii: "-") && bytes.last != UInt8(ascii: ".")
    }

    static func isIPAddress(_ host: String) -> Bool {
        if host.contains(":") { return true }  // IPv6
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }
}
