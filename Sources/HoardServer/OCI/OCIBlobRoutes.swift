import HoardHTTP
import HoardOCI
import HoardStore
import Hummingbird

/// `GET`/`HEAD`/`DELETE /v2/<name>/blobs/<digest>`, with conditional GET and single byte ranges.
struct OCIBlobRoutes {
    let store: Store
    /// The fast path's table: a blob served here is published (OCIFront adds the API version header).
    var hot: HotTable? = nil
    /// `--s3-redirect`: blob GETs are answered with a 307 to the bucket.
    var redirect: BlobRedirect? = nil

    func get(_ repository: RepositoryName, _ digest: OCIDigest, head: Bool, request: Request) async throws -> Response {
        guard let blob = try await OCIDigestResolver.blob(for: digest, in: store),
            try await store.index.ociHasBlob(repository: repository.value, digest: blob)
        else {
            throw OCIError(.blobUnknown, "blob \(digest) is unknown to \(repository)")
        }
        let reader = try await OCIStoreAccess.open(blob, in: store, missing: OCIError(.blobUnknown, "blob \(digest) of \(repository) is missing from the store"))
        let answer = Self.answer(.blob(reader), digest: digest.description)
        if let redirect, let response = try await redirect.response(
            for: blob, request: request, validators: answer.validators, extraHeaders: [.dockerContentDigest: digest.description])
        {
            return response
        }
        let response = answer.respond(method: head ? .head : .get, headers: request.headers)
        let (store, name) = (store, repository.value)
        hot?.publish(answered: request, with: response, answer: answer, extraHeaders: [.dockerDistributionAPIVersion: "registry/2.0"]) {
            (try? await store.index.ociHasBlob(repository: name, digest: blob)) ?? false
        }
        return response
    }

    /// Answers a blob GET/HEAD from a committed file through the one serving decision
    /// (`ResponsePlan`), as packages are: the ETag is the digest, so If-None-Match gives 304 and
    /// If-Range guards a resumed download; a 416 carries the spec's JSON error.
    static func serve(_ reader: any BlobReader, digest: String, head: Bool, request: Request) -> Response {
        serve(.blob(reader), digest: digest, head: head, request: request)
    }

    static func serve(_ source: RepresentationResponse.Source, digest: String, head: Bool, request: Request) -> Response {
        answer(source, digest: digest).respond(method: head ? .head : .get, headers: request.headers)
    }

    static func answer(_ source: RepresentationResponse.Source, digest: String) -> RepresentationResponse {
        RepresentationResponse(
            source: source,
            validators: Validators(etag: "\"\(digest)\"", lastModified: nil),
            contentType: "application/octet-stream",
            // Content-addressed: the bytes behind this URL never change.
            cacheControl: "max-age=31536000",
            extraHeaders: [.dockerContentDigest: digest],
            errorFormat: .oci
        )
    }

    func delete(_ repository: RepositoryName, _ digest: OCIDigest) async throws -> Response {
        guard let blob = try await OCIDigestResolver.blob(for: digest, in: store),
            try await store.index.ociRemoveBlob(repository: repository.value, digest: blob)
        else {
            throw OCIError(.blobUnknown, "blob \(digest) is unknown to \(repository)")
        }
        // Unlinked from this repository: the fast path must stop answering for it.
        hot?.remove(blob: blob)
        return .empty(.accepted)
    }
}

/// Opens a blob the index names; a file that vanished underneath (evicted, damaged) is `missing`.
enum OCIStoreAccess {
    static func open(_ blob: BlobDigest, in store: Store, missing: @autoclosure () -> OCIError) async throws -> any BlobReader {
        do {
            return try await store.open(blob)
        } catch {
            if case .blobNotFound = error { throw missing() }
            throw error
        }
    }
}
