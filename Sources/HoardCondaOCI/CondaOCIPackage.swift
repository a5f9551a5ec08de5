import Foundation
import HoardConda
import HoardDigest
import HoardOCI

/// One package archive as the OCI layout describes it, from its repodata record.
public struct CondaOCIPackage: Sendable, Hashable {
    public let filename: CondaFilename
    /// The archive's sha256: the layer digest, the blob in the store, the record's `sha256`.
    public let sha256: BlobDigest
    public let size: Int64
    /// Lowercase hex, for the `org.conda.md5` annotation; nil leaves it out.
    public let md5: String?
    /// The record's `timestamp` in seconds, the `creationTime` of the manifest; nil → 1970.
    public let timestampSeconds: Double?

    public init(filename: CondaFilename, sha256: BlobDigest, size: Int64, md5: String?, timestampSeconds: Double?) {
        self.filename = filename
        self.sha256 = sha256
        self.size = size
        self.md5 = md5
        self.timestampSeconds = timestampSeconds
    }

    /// From a repodata record; a record that cannot be a layer (no sha256, a size past Int64, a
    /// filename that is not a package's) is a skip with the reason.
    public static func from(filename: String, record: PackageDigest) -> Result<CondaOCIPackage, CondaOCISkip> {
        guard let name = try? CondaFilename(filename) else {
            return .failure(CondaOCISkip(filename: filename, reason: "not a conda package filename"))
        }
        guard let sha256 = record.sha256 else {
            return .failure(CondaOCISkip(filename: filename, reason: "its repodata record has no sha256, which a layer digest needs"))
        }
        // repodata's sizes are unsigned JSON integers; a descriptor's size is an Int64.
        guard let raw = record.size else {
            return .failure(CondaOCISkip(filename: filename, reason: "its repodata record has no size, which a layer descriptor needs"))
        }
        guard let size = Int64(exactly: raw) else {
            return .failure(CondaOCISkip(filename: filename, reason: "its size \(raw) is not a possible file size"))
        }
        return .success(
            CondaOCIPackage(filename: name, sha256: sha256, size: size, md5: record.md5?.hex, timestampSeconds: record.timestampSeconds))
    }
}

/// A package left out of the OCI layout, and why (reported, never silent).
public struct CondaOCISkip: Error, Sendable, Hashable, CustomStringConvertible {
    public let filename: String
    public let reason: String

    public init(filename: String, reason: String) {
        self.filename = filename
        self.reason = reason
    }

    public var description: String { "\(filename): \(reason)" }
}

/// The archives that share one tag (`.conda` and `.tar.bz2` of one build), `.conda` first: the
/// info layers describe the first.
public struct CondaOCIPackageGroup: Sendable, Hashable {
    /// The repository leaf: the package name with the `zzz` prefix when it starts with `_`.
    public let component: String
    public let tag: Tag
    public let archives: [CondaOCIPackage]
}
