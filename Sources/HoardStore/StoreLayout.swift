import Foundation

/// Where things live under a store root; `cache-layout.md` at the repo root documents the same.
///
/// Paths are only ever built from typed values (a `BlobDigest`, a random temp name): no text from a
/// request is joined onto a file system path.
public struct StoreLayout: Sendable, Hashable {
    public let root: String

    public init(root: String) {
        var root = root
        while root.count > 1, root.hasSuffix("/") { root.removeLast() }
        self.root = root
    }

    public var blobsDirectory: String { root + "/blobs/sha256" }
    public var tempDirectory: String { root + "/tmp" }
    /// With blobs in a bucket: this node's copies of some of them (`LocalBlobCache`).
    public var localCacheDirectory: String { root + "/s3-cache" }
    /// In-flight ingests; anything here at start-up is a leftover of a crash.
    public var ingestDirectory: String { root + "/tmp/ingest" }
    /// OCI upload sessions; they survive restarts and expire by age.
    public var uploadsDirectory: String { root + "/tmp/uploads" }
    public var indexPath: String { root + "/index.db" }
    public var lockPath: String { root + "/lock" }

    public func blobPath(_ digest: BlobDigest) -> String {
        "\(blobsDirectory)/\(digest.prefix)/\(digest.hex)"
    }

    public func fanoutDirectory(_ digest: BlobDigest) -> String {
        "\(blobsDirectory)/\(digest.prefix)"
    }

    /// The default root: `$HOARD_ROOT`, else `$XDG_CACHE_HOME/hoard`, else `~/.cache/hoard`.
    public static func defaultRoot(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let root = environment["HOARD_ROOT"], !root.isEmpty { return root }
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty { return cache + "/hoard" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.cache/hoard"
    }
}
