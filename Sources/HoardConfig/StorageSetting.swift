import HoardStore

/// Where the store keeps its blobs and shared names when they are not files under `--root`: an
/// S3-compatible bucket (`--storage s3://BUCKET/PREFIX --s3-endpoint URL`, or `[storage]` in the
/// config). Several nodes given the same bucket and prefix serve one store; each keeps its own
/// `--root` (the local index that caches the bucket, the lock, the spool). Without it the blobs
/// are files under `--root` (the default).
public struct StorageSetting: Sendable, Equatable {
    /// The bucket's name (S3's rules: 3 to 63 lowercase letters, digits, `.` and `-`).
    public let bucket: String
    /// The key prefix every object goes under, without leading or trailing `/`; empty: the whole bucket.
    public let prefix: String
    /// The S3 server, `https://HOST[:PORT]` (or `http://` when it says so).
    public let endpoint: String
    /// The SigV4 signing region.
    public let region: String
    /// Address the bucket as `ENDPOINT/BUCKET/…` instead of `BUCKET.HOST/…` (MinIO, SeaweedFS, Ceph).
    public let pathStyle: Bool
    /// Answer package and OCI blob GETs with a 307 to a presigned URL of the bucket.
    public let redirect: Bool
    /// Bytes of blobs this node keeps copies of on its own disk (under the root's `s3-cache`),
    /// served from there instead of the bucket; 0: none.
    public let localCache: ByteSize

    public static let defaultRegion = "us-east-1"
    /// Enough for the packages and layers a team or CI fleet installs over and over.
    public static let defaultLocalCache = ByteSize(bytes: 10 << 30)

    /// A setting that cannot be used: which part (to name the flag or the key) and what it must be.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Part: Sendable, Equatable { case url, endpoint, region }
        public let part: Part
        public let requirement: String

        public var description: String { requirement }
    }

    /// Checks each part; `endpoint` nil is an error (there is no default S3 server), a missing
    /// `region` is us-east-1. An endpoint without a scheme is https.
    public init(
        url: String, endpoint: String?, region: String? = nil, pathStyle: Bool = false, redirect: Bool = false,
        localCache: ByteSize? = nil
    ) throws(Invalid) {
        let location = try Self.parseURL(url)
        bucket = location.bucket
        prefix = location.prefix
        guard let endpoint, !endpoint.isEmpty else {
            throw Invalid(part: .endpoint, requirement:
                "the S3 server's URL for \(url), e.g. https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:8333: hoard has no default endpoint")
        }
        self.endpoint = try Self.parseEndpoint(endpoint)
        let region = region ?? Self.defaultRegion
        guard !region.isEmpty, region.utf8.count <= 64,
            region.utf8.allSatisfy({ Self.isLowerAlnum($0) || $0 == UInt8(ascii: "-") })
        else {
            throw Invalid(part: .region, requirement: "an S3 region of lowercase letters, digits and '-', e.g. us-east-1")
        }
        self.region = region
        self.pathStyle = pathStyle
        self.redirect = redirect
        self.localCache = localCache ?? Self.defaultLocalCache
    }

    /// `s3://BUCKET` or `s3://BUCKET/PREFIX` → (bucket, prefix).
    static func parseURL(_ url: String) throws(Invalid) -> (bucket: String, prefix: String) {
        let form = "s3://BUCKET/PREFIX (the prefix may be empty), e.g. s3://hoard-cache/prod"
        guard let schemeEnd = url.range(of: "://") else {
            throw Invalid(part: .url, requirement: "a storage URL \(form); '\(url)' has no scheme")
        }
        let scheme = url[..<schemeEnd.lowerBound]
        guard scheme == "s3" else {
            throw Invalid(part: .url, requirement:
                "a storage URL \(form): the scheme '\(scheme)' is not known (blobs are files under --root unless --storage names an s3:// bucket)")
        }
        let rest = url[schemeEnd.upperBound...]
        let slash = rest.firstIndex(of: "/")
        let bucket = String(rest[..<(slash ?? rest.endIndex)])
        let bytes = Array(bucket.utf8)
        let inner: (UInt8) -> Bool = { isLowerAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
        guard (3...63).contains(bytes.count), let first = bytes.first, let last = bytes.last, isLowerAlnum(first),
            isLowerAlnum(last), bytes.allSatisfy(inner), !bucket.contains("..")
        else {
            throw Invalid(part: .url, requirement:
                "a storage URL \(form): the bucket name '\(bucket)' must be 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit")
        }
        var prefix = slash.map { String(rest[rest.index(after: $0)...]) } ?? ""
        while prefix.hasSuffix("/") { prefix.removeLast() }
        let components = prefix.split(separator: "/", omittingEmptySubsequences: false)
        // Keys are built as PREFIX/blobs/…: a prefix must be plain path components, so that what
        // one node writes is where every other node looks.
        let plain: (Substring) -> Bool = { component in
            !component.isEmpty && component != "." && component != ".."
                && component.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") && $0 != UInt8(ascii: "\\") }
        }
        guard prefix.isEmpty || (prefix.utf8.count <= 512 && components.allSatisfy(plain)) else {
            throw Invalid(part: .url, requirement:
                "a storage URL \(form): the prefix '\(prefix)' must be components of printable ASCII (no spaces, '?', '#' or '\\') separated by single '/', none of them '.' or '..'")
        }
        return (bucket, prefix)
    }

    /// `https://HOST[:PORT]` (a trailing `/` dropped); a bare `HOST[:PORT]` means https.
    static func parseEndpoint(_ text: String) throws(Invalid) -> String {
        let requirement = "the S3 server's URL, https://HOST[:PORT] (http:// only when it serves plain HTTP), with no path, query or credentials"
        var endpoint = text
        if !endpoint.contains("://") { endpoint = "https://" + endpoint }
        guard let schemeEnd = endpoint.range(of: "://") else { throw Invalid(part: .endpoint, requirement: requirement) }
        let scheme = endpoint[..<schemeEnd.lowerBound]
        guard scheme == "https" || scheme == "http" else {
            throw Invalid(part: .endpoint, requirement: requirement + "; '\(scheme)://' is neither")
        }
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        let authority = endpoint[schemeEnd.upperBound...]
        let hostPort = authority.utf8
        guard !authority.isEmpty, !authority.contains("/"), !authority.contains("?"), !authority.contains("#"),
            !authority.contains("@"), hostPort.allSatisfy({ $0 > 0x20 && $0 < 0x7f })
        else {
            throw Invalid(part: .endpoint, requirement: requirement + "; got '\(text)'")
        }
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            let port = authority[authority.index(after: colon)...]
            guard let number = Int(port), (1...65535).contains(number), colon != authority.startIndex else {
                throw Invalid(part: .endpoint, requirement: requirement + "; the port of '\(text)' is not from 1 to 65535")
            }
        }
        return endpoint
    }

    /// The storage URL as given, normalised (`s3://BUCKET/PREFIX`).
    public var url: String { prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)" }

    private static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39)
    }
}

extension StorageSetting {
    /// The storage a command uses: the command line's parts over the config's (`[storage]`),
    /// part by part. nil: the blobs are files under `--root`. The `--s3-*` flags without a
    /// storage URL from either are an error (they would be ignored).
    public static func resolve(
        config: StorageSetting?, url: String?, endpoint: String?, region: String?, pathStyle: Bool, redirect: Bool,
        localCache: ByteSize? = nil
    ) throws(Invalid) -> StorageSetting? {
        guard let url = url ?? config?.url else {
            if endpoint != nil || region != nil || pathStyle || redirect || localCache != nil {
                throw Invalid(part: .url, requirement:
                    "--storage s3://BUCKET/PREFIX (or [storage] url): the --s3-* flags only apply to a bucket; without one the blobs are files under --root")
            }
            return nil
        }
        return try StorageSetting(
            url: url, endpoint: endpoint ?? config?.endpoint, region: region ?? config?.region,
            pathStyle: pathStyle || (config?.pathStyle ?? false), redirect: redirect || (config?.redirect ?? false),
            localCache: localCache ?? config?.localCache)
    }
}
