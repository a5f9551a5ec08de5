import HoardHTTP
import HoardOCI
import HoardStore
import Hummingbird

/// `GET`/`HEAD`/`DELETE /v2/<name>/blobs/<digest>`, with single byte ranges.
struct OCIBlobRoutes {
    let store: Store
    /// The fast path's table: a blob served here is published (OCIFront adds the API version header).
    var hot: HotTable? = nil

    func get(_ repository: RepositoryName, _ digest: OCIDigest, head: Bool, request: Request) async throws -> Response {
        guard let blob = try await OCIDigestResolver.blob(for: digest, in: store),
            try await store.index.ociHasBlob(repository: repository.value, digest: blob)
        else {
            throw OCIError(.blobUnknown, "blob \(digest) is unknown to \(repository)")
        }
        let file = try OCIStoreAccess.open(blob, in: store, missing: OCIError(.blobUnknown, "blob \(digest) of \(repository) is missing from the store"))
        let response = Self.serve(file, digest: digest.description, head: head, request: request)
        hot?.publish(
            answered: request, with: response, contentType: "application/octet-stream", body: .blob(blob, size: file.size),
            validators: nil, extraHeaders: [.dockerDistributionAPIVersion: "registry/2.0"])
        return response
    }

    /// Answers a blob GET/HEAD from a committed file, honouring a single byte range.
    static func serve(_ file: BlobFile, digest: String, head: Bool, request: Request) -> Response {
        var headers: HTTPFields = [
            .contentType: "application/octet-stream",
            .dockerContentDigest: digest,
            .eTag: "\"\(digest)\"",
            .acceptRanges: "bytes",
            // Content-addressed: the bytes behind this URL never change.
            .cacheControl: "max-age=31536000",
        ]
        let size = file.size
        // An empty blob has no byte to range over: always the whole (empty) body.
        guard size > 0 else {
            headers[.contentLength] = "0"
            return Response(status: .ok, headers: headers, body: ResponseBody())
        }
        let range: ClosedRange<Int64>
        let status: HTTPResponse.Status
        switch ByteRange(header: request.headers[.range], size: size) {
        case .whole:
            status = .ok
            range = 0...(size - 1)
        case .partial(let start, let end):
            status = .partialContent
            range = start...end
            headers[.contentRange] = ContentRange.bytes(start: start, end: end, size: size)
        case .unsatisfiable:
            headers[.contentRange] = ContentRange.unsatisfied(size: size)
            return .oci(OCIError(.blobUnknown, "range \(request.headers[.range] ?? "") is outside the blob of \(size) bytes", status: 416), headers: headers)
        }
        headers[.contentLength] = String(range.count)
        if head {
            return Response(status: status, headers: headers, body: ResponseBody())
        }
        return Response(status: status, headers: headers, body: OCIBlobResponse.body(file, range: range))
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
    static func open(_ blob: BlobDigest, in store: Store, missing: @autoclosure () -> OCIError) throws -> BlobFile {
        do {
            return try store.open(blob)
        } catch {
            if case .blobNotFound = error { throw missing() }
            throw error
        }
    }
}
