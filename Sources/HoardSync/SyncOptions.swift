import Foundation

/// What `hoard sync --registry` is asked to do.
public struct SyncOptions: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Compare against the inventory published at `repodata.json:latest`; push what is new.
        case shallow
        /// Check every package tag and blob in the registry; repair what is missing or differs.
        case deep
    }

    public var mode: Mode = .shallow
    /// Channels to push; empty: every channel the store holds repodata for.
    public var channels: [String] = []
    /// Subdirs to push; empty: every subdir the store holds repodata for.
    public var subdirs: [String] = []
    /// Packages to push; empty: all.
    public var packages: [PackageFilter] = []
    /// Print the plan, push nothing.
    public var dryRun = false
    /// Packages pushed at once.
    public var jobs = 4
    /// Blobs larger than this are uploaded in chunks of this size.
    public var chunkSize: Int64 = 64 << 20
    /// Channels protected on the conda front (`readers` or `private = true`): published only
    /// when named in `channels`, never by the "every channel" default (a registry may be public).
    public var protectedChannels: Set<String> = []

    public init() {}

    func wants(channel: String, subdir: String) -> Bool {
        !skipsProtected(channel) && (channels.isEmpty || channels.contains(channel)) && (subdirs.isEmpty || subdirs.contains(subdir))
    }

    /// Whether `channel` is left out because it is protected and was not named.
    public func skipsProtected(_ channel: String) -> Bool {
        protectedChannels.contains(channel) && !channels.contains(channel)
    }

    /// The protected channels named explicitly (published: the registry must be access-controlled).
    public var namedProtectedChannels: [String] {
        channels.filter { protectedChannels.contains($0) }.sorted()
    }

    func wants(name: String, version: String) -> Bool {
        packages.isEmpty || packages.contains { $0.matches(name: name, version: version) }
    }
}

/// `NAME[@VERSION_REGEX]`: a package name, and optionally a regular expression its whole
/// version must match.
public struct PackageFilter: Sendable, CustomStringConvertible {
    public let name: String
    public let versionPattern: String?
    private let regex: NSRegularExpression?

    public init(parsing text: String) throws(SyncError) {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0])
        guard !name.isEmpty else { throw .invalidArgument("--package \"\(text)\": the package name is empty") }
        self.name = name.lowercased()
        if parts.count == 2 {
            let pattern = String(parts[1])
            do { regex = try NSRegularExpression(pattern: pattern) } catch {
                throw .invalidArgument("--package \"\(text)\": \"\(pattern)\" is not a regular expression (\(error))")
            }
            versionPattern = pattern
        } else {
            regex = nil
            versionPattern = nil
        }
    }

    public func matches(name: String, version: String) -> Bool {
        guard name == self.name else { return false }
        guard let regex else { return true }
        let whole = NSRange(version.startIndex..., in: version)
        return regex.firstMatch(in: version, options: [.anchored], range: whole)?.range == whole
    }

    public var description: String { versionPattern.map { "\(name)@\($0)" } ?? name }
}

/// Why a sync could not start (per-package failures are counted in the summary instead).
public enum SyncError: Error, Sendable, CustomStringConvertible {
    case invalidArgument(String)
    case nothingToSync(String)
    case registry(String)
    case store(String)

    public var description: String {
        switch self {
        case .invalidArgument(let m), .nothingToSync(let m), .registry(let m), .store(let m): m
        }
    }
}
