import HoardOCI
import HoardStore
import Hummingbird

/// `/v2/<name>/manifests/<reference>`: manifests are stored byte-exact as pinned blobs (their
/// sha256 is their identity) and named in the index with their media type and subject.
struct OCIManifestRoutes {
    let store: Store

    func get(_ repository: RepositoryName, _ reference: Reference, head: Bool) async throws -> Response {
        let record = try await resolve(repository, reference)
        let file = try await OCIStoreAccess.open(
            record.digest, in: store, missing: OCIError(.manifestUnknown, "manifest \(reference) of \(repository) is missing from the store"))
        // Served whatever the Accept header says: hoard converts nothing, and the bytes are the
        // identity. Clients that cannot use the type say so themselves.
        let digest = reference.digest?.description ?? record.clientDigest
        let headers: HTTPFields = [.dockerContentDigest: digest, .eTag: "\"\(digest)\""]
        if head {
            var h = headers
            h[.contentType] = record.mediaType
            h[.contentLength] = String(file.size)
            return Response(status: .ok, headers: h, body: ResponseBody())
        }
        return .bytes(.ok, try await file.readAll(limit: Int64(Manifest.maxSize)), contentType: record.mediaType, headers: headers)
    }

    func put(_ repository: RepositoryName, _ reference: Reference, extraTags: [Tag], request: Request) async throws -> Response {
        var body = ByteBuffer()
        for try await buffer in request.body {
            guard body.readableBytes + buffer.readableBytes <= Manifest.maxSize else {
                throw ManifestError.tooLarge(size: body.readableBytes + buffer.readableBytes, limit: Manifest.maxSize).ociError
            }
            body.writeImmutableBuffer(buffer)
        }
        let bytes = Array(buffer: body)
        let manifest: Manifest
        do {
            manifest = try Manifest.parse(bytes, contentType: request.headers[.contentType])
        } catch {
            throw error.ociError
        }
        var pushedDigest: String?
        if let expected = reference.digest {
            let actual = OCIDigest.compute(expected.algorithm, of: bytes)
            guard actual == expected else {
                throw OCIError(.digestInvalid, "the manifest bytes hash to \(actual), not \(expected)")
            }
            if expected.algorithm != .sha256 { pushedDigest = expected.description }
        }
        // Referenced blobs are not required to be present: sparse manifests and indexes (a
        // platform not mirrored, a subject pushed later) are legitimate.
        let blob = try await store.ingest(bytes: bytes, pinned: true)
        let tags = ([reference.tag].compactMap { $0 } + extraTags).map(\.value)
        let record = OCIManifestRecord(
            repository: repository.value, digest: blob.digest, mediaType: manifest.mediaType,
            artifactType: manifest.artifactType, subject: manifest.subject?.digest.description, pushedDigest: pushedDigest)
        try await store.index.ociPutManifest(record, tags: tags)

        var headers: HTTPFields = [
            .location: "/v2/\(repository.value)/manifests/\(record.clientDigest)",
            .dockerContentDigest: record.clientDigest,
        ]
        if let subject = manifest.subject { headers[.ociSubject] = subject.digest.description }
        if !extraTags.isEmpty { headers[.ociTag] = tags.joined(separator: ", ") }
        return .empty(.created, headers: headers)
    }

    func delete(_ repository: RepositoryName, _ reference: Reference) async throws -> Response {
        switch reference {
        case .tag(let tag):
            guard try await store.index.ociDeleteTag(repository: repository.value, tag: tag.value) else {
                throw OCIError(.manifestUnknown, "tag \(tag) is unknown to \(repository)")
            }
        case .digest:
            let record = try await resolve(repository, reference)
            try await store.index.ociDeleteManifest(repository: repository.value, digest: record.digest)
        }
        return .empty(.accepted)
    }

    /// The manifest a tag or digest names in `repository`; 404 MANIFEST_UNKNOWN otherwise.
    func resolve(_ repository: RepositoryName, _ reference: Reference) async throws -> OCIManifestRecord {
        let blob: BlobDigest?
        switch reference {
        case .tag(let tag): blob = try await store.index.ociTag(repository: repository.value, tag: tag.value)
        case .digest(let digest): blob = try await OCIDigestResolver.blob(for: digest, in: store)
        }
        guard let blob, let record = try await store.index.ociManifest(repository: repository.value, digest: blob) else {
            throw OCIError(.manifestUnknown, "manifest \(reference) is unknown to \(repository)")
        }
        return record
    }
}

/// Maps a wire digest to the sha256 that names the blob in the store.
enum OCIDigestResolver {
    static func blob(for digest: OCIDigest, in store: Store) async throws -> BlobDigest? {
        switch digest.algorithm {
        case .sha256: try BlobDigest(parsing: digest.hex)
        case .sha512: try await store.index.ociAlias(digest.description)
        }
    }
}
