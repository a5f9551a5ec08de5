import HoardStore
import Hummingbird

/// `--s3-redirect`: a GET of a stored blob (a package, an OCI blob) is answered with a 307 to a
/// presigned URL of the bucket, so its bytes flow from the bucket to the client, not through
/// the node (as distribution's `redirect` does). Only where it changes nothing else: a GET (HEAD
/// answers here, with the headers a GET would carry) that is not answered 304, of a blob whose
/// backend gives direct URLs (the file backend gives none: served as always).
struct BlobRedirect: Sendable {
    let store: Store
    /// How long a presigned URL stays valid; long enough for a large download to start.
    var expires = 900

    /// The 307 for `digest`, or nil when the request is served by the node itself.
    func response(for digest: BlobDigest, request: Request, validators: Validators, extraHeaders: HTTPFields = [:]) async throws -> Response? {
        guard request.method == .get, !validators.notModified(request.headers),
            let url = try await store.blobs.directURL(for: digest, expires: expires)
        else { return nil }
        var headers = extraHeaders
        headers[.location] = url
        // The URL expires: a cache must not keep this answer for the blob's own URL.
        headers[.cacheControl] = "no-store"
        headers[.contentLength] = "0"
        return Response(status: .temporaryRedirect, headers: headers, body: ResponseBody())
    }
}
