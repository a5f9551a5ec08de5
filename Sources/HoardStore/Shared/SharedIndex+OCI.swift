import Foundation

/// The OCI front's names in the shared index (the bucket), one small JSON record each. Keys (each
/// component encoded by `SharedKey.component`; cache-layout.md, "The bucket"):
///
/// - `index/oci/<repository components…>/_manifests/<hex>`: a manifest of the repository
///   (`SharedOCIManifest`), `<hex>` the sha256 of its bytes.
/// - `…/_tags/<tag>`: a tag (`SharedOCITag`).
/// - `…/_blobs/<hex>`: a blob linked into the repository (`SharedOCIBlobLink`).
/// - `…/_referrers/<subject-hex>/<hex>`: manifest `<hex>` has subject `<subject-hex>`
///   (`SharedOCIReferrer`), so the referrers of a subject are one listing.
/// - `index/oci-catalog/<repository>`: the repository exists (the catalog is one listing of
///   this prefix, never a walk over every manifest and tag).
/// - `index/oci-alias/<algorithm>/<hex>`: the sha256 a non-sha256 (sha512) digest names.
///
/// Repository components are split at `/`; a component of an OCI name never starts with `_`,
/// so `_manifests`, `_tags`, `_blobs`, `_referrers` never collide with a nested repository.
extension SharedIndex {
    static let ociKind = "oci"
    static let ociCatalogKind = "oci-catalog"
    static let ociAliasKind = "oci-alias"

    /// `index/oci/<repository components…>`.
    static func ociRepository(_ repository: String) -> SharedKey {
        key(ociKind, repository.split(separator: "/", omittingEmptySubsequences: false).map(String.init))
    }

    static func ociManifestKey(_ repository: String, _ digest: BlobDigest) -> SharedKey {
        ociRepository(repository).appending("_manifests", digest.hex)
    }

    static func ociTags(_ repository: String) -> SharedKey {
        ociRepository(repository).appending("_tags")
    }

    static func ociTagKey(_ repository: String, _ tag: String) -> SharedKey {
        ociTags(repository).appending(tag)
    }

    static func ociBlobKey(_ repository: String, _ digest: BlobDigest) -> SharedKey {
        ociRepository(repository).appending("_blobs", digest.hex)
    }

    /// `…/_referrers/<subject-hex>`: the hex alone (64 characters for sha256, 128 for sha512,
    /// so the two never meet); the full subject is in the manifest record.
    static func ociReferrers(_ repository: String, subject: String) -> SharedKey {
        ociRepository(repository).appending("_referrers", Self.hexPart(of: subject))
    }

    static func ociReferrerKey(_ repository: String, subject: String, _ digest: BlobDigest) -> SharedKey {
        ociReferrers(repository, subject: subject).appending(digest.hex)
    }

    static func ociCatalogKey(_ repository: String) -> SharedKey {
        key(ociCatalogKind, [repository])
    }

    static var ociCatalog: SharedKey { key(ociCatalogKind, []).directory }

    /// `index/oci-alias/<algorithm>/<hex>` for `sha512:<hex>`; an alias without a colon is one component.
    static func ociAliasKey(_ alias: String) -> SharedKey {
        guard let colon = alias.firstIndex(of: ":") else { return key(ociAliasKind, [alias]) }
        return key(ociAliasKind, [String(alias[..<colon]), String(alias[alias.index(after: colon)...])])
    }

    /// The part after `algorithm:` (the whole text when there is no colon).
    static func hexPart(of digest: String) -> String {
        digest.firstIndex(of: ":").map { String(digest[digest.index(after: $0)...]) } ?? digest
    }
}

/// A manifest as the bucket records it: what the referrers API and the pull path need without
/// reading the manifest's bytes, and the blob's size so a node that never saw the push can adopt
/// the blob's row (the local index's rows reference it).
struct SharedOCIManifest: Codable, Sendable, Hashable {
    /// The sha256 of the manifest bytes (`sha256:<hex>`).
    var digest: String
    var mediaType: String
    var artifactType: String?
    var subject: String?
    var pushedDigest: String?
    var size: Int64
    var createdAt: Double
}

/// A tag: the manifest it points at (`sha256:<hex>`).
struct SharedOCITag: Codable, Sendable, Hashable {
    var digest: String
    var updatedAt: Double
}

/// A blob linked into a repository (pushed, or mounted).
struct SharedOCIBlobLink: Codable, Sendable, Hashable {
    var digest: String
    var size: Int64
}

/// Manifest `digest` refers to `subject` (the key says the same; the body is for people reading the bucket).
struct SharedOCIReferrer: Codable, Sendable, Hashable {
    var digest: String
    var subject: String
}

/// A repository exists (created by its first push or mount; never removed, as in the local index).
struct SharedOCIRepository: Codable, Sendable, Hashable {
    var name: String
    var createdAt: Double
}

/// A non-sha256 digest (`sha512:<hex>`) naming the blob stored under `digest`.
struct SharedOCIAlias: Codable, Sendable, Hashable {
    var alias: String
    var digest: String
    var size: Int64
}

/// Checks on what comes back from the bucket: a record that does not hold together is an error
/// an operator can act on, never trusted.
enum SharedRecordCheck {
    static func digest(_ text: String, in key: SharedKey) throws(StoreError) -> BlobDigest {
        guard let digest = try? BlobDigest(parsing: text) else {
            throw .index("shared record \(key) names an invalid digest '\(text)'")
        }
        return digest
    }

    static func size(_ size: Int64, in key: SharedKey) throws(StoreError) -> Int64 {
        guard size >= 0 else { throw .index("shared record \(key) has a negative size \(size)") }
        return size
    }
}
