import Foundation
import GRDB

/// The OCI front's names when several nodes share one bucket (`StoreIndex.shared` non-nil).
///
/// Writes go to the bucket first, then to this node's rows; a failure between the two leaves
/// the bucket (the truth) ahead, which the next read adopts. Reads of names that can change or
/// disappear (tags, manifests, blob links, referrers, listings) ask the bucket every time, so a
/// push, retag or delete through one node is what every node serves at once; this node's rows
/// follow what those reads find (adopted, or dropped). Names that never change once written
/// (sha512 aliases) are read through: the local row when there is one, else the bucket's record.
extension StoreIndex {
    // MARK: Aliases

    func sharedOCIAlias(_ shared: SharedIndex, _ alias: String) async throws -> BlobDigest? {
        let local = try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT digest FROM oci_digest_alias WHERE alias = ?", arguments: [alias])
        }.flatMap { try? BlobDigest(parsing: $0) }
        if let local { return local }
        let key = SharedIndex.ociAliasKey(alias)
        guard let found = try await shared.read(SharedOCIAlias.self, at: key) else { return nil }
        let digest = try SharedRecordCheck.digest(found.value.digest, in: key)
        let size = try SharedRecordCheck.size(found.value.size, in: key)
        try await pool.write { db in
            try Self.adoptBlobRow(db, digest, size: size, pinned: false)
            try Self.addAlias(db, alias, digest)
        }
        return digest
    }

    // MARK: Blobs

    func sharedOCIAddBlob(_ shared: SharedIndex, repository: String, digest: BlobDigest, alias: String?) async throws {
        let size = try await committedBlobSize(digest)
        try await sharedEnsureRepository(shared, repository)
        if let alias {
            try await shared.write(SharedOCIAlias(alias: alias, digest: digest.description, size: size), at: SharedIndex.ociAliasKey(alias))
        }
        try await shared.write(SharedOCIBlobLink(digest: digest.description, size: size), at: SharedIndex.ociBlobKey(repository, digest))
        try await pool.write { db in try Self.addBlobRows(db, repository: repository, digest: digest, alias: alias) }
    }

    /// A blob link in the bucket, or a manifest (fetchable through the blobs endpoint too).
    func sharedOCIHasBlob(_ shared: SharedIndex, repository: String, digest: BlobDigest) async throws -> Bool {
        let key = SharedIndex.ociBlobKey(repository, digest)
        if let link = try await shared.read(SharedOCIBlobLink.self, at: key) {
            try Self.check(link.value.digest, is: digest, in: key)
            try await cacheBlobLink(repository: repository, digest: digest, size: try SharedRecordCheck.size(link.value.size, in: key))
            return true
        }
        try await dropCachedBlobLink(repository: repository, digest: digest)
        return try await sharedOCIManifest(shared, repository: repository, digest: digest) != nil
    }

    func sharedOCIRemoveBlob(_ shared: SharedIndex, repository: String, digest: BlobDigest) async throws -> Bool {
        let key = SharedIndex.ociBlobKey(repository, digest)
        let existed = try await shared.objects.get(key) != nil
        if existed { try await shared.objects.delete(key) }
        try await dropCachedBlobLink(repository: repository, digest: digest)
        return existed
    }

    // MARK: Manifests and tags

    /// The manifest record, its referrer link and its tags, in that order: a tag never points at
    /// a manifest the bucket does not have yet.
    func sharedOCIPutManifest(_ shared: SharedIndex, _ record: OCIManifestRecord, tags: [String], now: Double) async throws {
        let size = try await committedBlobSize(record.digest)
        try await sharedEnsureRepository(shared, record.repository, now: now)
        if let alias = record.pushedDigest {
            try await shared.write(SharedOCIAlias(alias: alias, digest: record.digest.description, size: size), at: SharedIndex.ociAliasKey(alias))
        }
        let entry = SharedOCIManifest(
            digest: record.digest.description, mediaType: record.mediaType, artifactType: record.artifactType,
            subject: record.subject, pushedDigest: record.pushedDigest, size: size, createdAt: now)
        try await shared.write(entry, at: SharedIndex.ociManifestKey(record.repository, record.digest))
        if let subject = record.subject {
            try await shared.write(
                SharedOCIReferrer(digest: record.digest.description, subject: subject),
                at: SharedIndex.ociReferrerKey(record.repository, subject: subject, record.digest))
        }
        for tag in tags {
            try await shared.write(SharedOCITag(digest: record.digest.description, updatedAt: now), at: SharedIndex.ociTagKey(record.repository, tag))
        }
        try await pool.write { db in try Self.putManifestRows(db, record, tags: tags, now: now) }
    }

    func sharedOCIManifest(_ shared: SharedIndex, repository: String, digest: BlobDigest) async throws -> OCIManifestRecord? {
        let key = SharedIndex.ociManifestKey(repository, digest)
        guard let found = try await shared.read(SharedOCIManifest.self, at: key) else {
            try await dropCachedManifest(repository: repository, digest: digest)
            return nil
        }
        let entry = found.value
        try Self.check(entry.digest, is: digest, in: key)
        let record = OCIManifestRecord(
            repository: repository, digest: digest, mediaType: entry.mediaType, artifactType: entry.artifactType,
            subject: entry.subject, pushedDigest: entry.pushedDigest)
        try await cacheManifestRow(record, size: try SharedRecordCheck.size(entry.size, in: key), createdAt: entry.createdAt)
        return record
    }

    /// Always the bucket's answer: a tag moved or deleted through another node is seen at once.
    /// (This node's tag rows are written by its own pushes and never consulted in shared mode.)
    func sharedOCITag(_ shared: SharedIndex, repository: String, tag: String) async throws -> BlobDigest? {
        let key = SharedIndex.ociTagKey(repository, tag)
        guard let found = try await shared.read(SharedOCITag.self, at: key) else { return nil }
        return try SharedRecordCheck.digest(found.value.digest, in: key)
    }

    /// Removes the manifest's tags and its referrer link from the bucket, then the manifest
    /// record, then this node's rows.
    func sharedOCIDeleteManifest(_ shared: SharedIndex, repository: String, digest: BlobDigest) async throws -> Bool {
        let key = SharedIndex.ociManifestKey(repository, digest)
        guard let found = try await shared.read(SharedOCIManifest.self, at: key) else {
            try await dropCachedManifest(repository: repository, digest: digest)
            return false
        }
        // Tags name their manifest only in their bodies: read each (a handful at a time).
        let tagKeys = try await shared.objects.list(prefix: SharedIndex.ociTags(repository).directory).map(\.key)
        let pointing = try await Concurrently.map(tagKeys) { tagKey -> SharedKey? in
            guard let tag = try await shared.read(SharedOCITag.self, at: tagKey) else { return nil }
            return tag.value.digest == digest.description ? tagKey : nil
        }
        for tagKey in pointing.compactMap({ $0 }) { try await shared.objects.delete(tagKey) }
        if let subject = found.value.subject {
            try await shared.objects.delete(SharedIndex.ociReferrerKey(repository, subject: subject, digest))
        }
        try await shared.objects.delete(key)
        try await dropCachedManifest(repository: repository, digest: digest)
        return true
    }

    func sharedOCIDeleteTag(_ shared: SharedIndex, repository: String, tag: String) async throws -> Bool {
        let key = SharedIndex.ociTagKey(repository, tag)
        let existed = try await shared.objects.get(key) != nil
        if existed { try await shared.objects.delete(key) }
        _ = try await pool.write { db in try Self.deleteTagRow(db, repository: repository, tag: tag) }
        return existed
    }

    // MARK: Listing

    /// The tags listed in the bucket, in byte order; nil when the repository is unknown.
    func sharedOCITags(_ shared: SharedIndex, repository: String) async throws -> [String]? {
        let tags = try await Self.names(under: SharedIndex.ociTags(repository).directory, in: shared)
        if tags.isEmpty {
            if try await hasCachedRepository(repository) { return [] }
            return try await shared.objects.get(SharedIndex.ociCatalogKey(repository)) != nil ? [] : nil
        }
        return tags
    }

    func sharedOCIRepositories(_ shared: SharedIndex) async throws -> [String] {
        try await Self.names(under: SharedIndex.ociCatalog, in: shared)
    }

    /// The manifests linked under the subject in the bucket, read (and cached) one by one; a link
    /// whose manifest has gone meanwhile is left out.
    func sharedOCIReferrers(_ shared: SharedIndex, repository: String, subject: String) async throws -> [OCIManifestRecord] {
        let prefix = SharedIndex.ociReferrers(repository, subject: subject).directory
        let digests = try await Self.names(under: prefix, in: shared).compactMap { try? BlobDigest(parsing: $0) }
        let records = try await Concurrently.map(digests) { digest in
            try await self.sharedOCIManifest(shared, repository: repository, digest: digest)
        }
        return records.compactMap { $0 }.filter { $0.subject == subject }.sorted { $0.digest.hex < $1.digest.hex }
    }

    // MARK: Helpers

    /// The catalog record, written once (the first push or mount of the repository through any node).
    func sharedEnsureRepository(_ shared: SharedIndex, _ repository: String, now: Double = Date().timeIntervalSince1970) async throws {
        guard try await !hasCachedRepository(repository) else { return }
        try await shared.write(SharedOCIRepository(name: repository, createdAt: now), at: SharedIndex.ociCatalogKey(repository), when: .ifAbsent)
    }

    /// The decoded last components of the keys directly under `prefix`, in byte order (the
    /// bucket's key order is that of the encoded names).
    static func names(under prefix: SharedKey, in shared: SharedIndex) async throws(StoreError) -> [String] {
        try await shared.objects.list(prefix: prefix).compactMap { summary -> String? in
            let rest = summary.key.path.dropFirst(prefix.path.count)
            guard !rest.isEmpty, !rest.contains("/") else { return nil }
            return SharedKey.decode(rest)
        }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// A record must name the digest its key says.
    static func check(_ text: String, is digest: BlobDigest, in key: SharedKey) throws(StoreError) {
        guard try SharedRecordCheck.digest(text, in: key) == digest else {
            throw .index("shared record \(key) names \(text), not the \(digest) its key says")
        }
    }
}
