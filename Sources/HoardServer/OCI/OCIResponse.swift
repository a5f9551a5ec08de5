import HoardOCI
import Hummingbird

/// Header names of the distribution spec.
extension HTTPFields.Element.Name {
    static let link = Self("Link")!
    static let dockerContentDigest = Self("Docker-Content-Digest")!
    static let dockerUploadUUID = Self("Docker-Upload-UUID")!
    static let dockerDistributionAPIVersion = Self("Docker-Distribution-API-Version")!
    static let ociSubject = Self("OCI-Subject")!
    static let ociTag = Self("OCI-Tag")!
    static let ociFiltersApplied = Self("OCI-Filters-Applied")!
    static let ociChunkMinLength = Self("OCI-Chunk-Min-Length")!
}

extension Response {
    /// An OCI error as the spec's JSON body, with its status.
    static func oci(_ error: OCIError, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = OCIError.contentType
        headers[.dockerDistributionAPIVersion] = "registry/2.0"
        let body = error.jsonBody
        headers[.contentLength] = String(body.count)
        return Response(
            status: HTTPResponse.Status(code: error.status), headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// A small in-memory body (manifests, lists, token answers).
    static func bytes(_ status: HTTPResponse.Status, _ bytes: [UInt8], contentType: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = contentType
        headers[.contentLength] = String(bytes.count)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// No body: 201/202/204 answers of the write endpoints.
    static func empty(_ status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentLength] = "0"
        return Response(status: status, headers: headers, body: ResponseBody())
    }
}
