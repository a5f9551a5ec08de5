import AsyncHTTPClient
import Foundation
import HoardS3Wire
import NIOCore

extension S3Client {
    /// Starts a multipart upload to `key`; returns its upload ID. Nothing is visible under the
    /// key until `completeMultipartUpload`.
    public func createMultipartUpload(_ key: String) async throws(S3Error) -> String {
        let response = try await send("CREATE-MULTIPART", method: .POST, key: key, query: [("uploads", "")],
                                      headers: [("content-type", "application/octet-stream")])
        guard response.status.code == 200 else { throw await failure("CREATE-MULTIPART", key: key, response) }
        let bytes = try await collectXML("CREATE-MULTIPART", response)
        guard let result = S3XML.decode(InitiateMultipartUploadResult.self, bytes), !result.uploadID.isEmpty else {
            throw .invalidResponse(operation: "CREATE-MULTIPART", reason: "no UploadId in the answer")
        }
        return result.uploadID
    }

    /// Uploads one part (1...10000; every part but the last at least 5 MiB); returns its ETag.
    /// The part is in memory, so its sha256 is signed (no unsigned payloads).
    public func uploadPart(_ key: String, uploadID: String, partNumber: Int, body: ByteBuffer) async throws(S3Error) -> String {
        guard (1...10_000).contains(partNumber) else {
            throw .invalidArgument("an S3 part number is 1...10000, not \(partNumber)")
        }
        let response = try await send("UPLOAD-PART", method: .PUT, key: key,
                                      query: [("partNumber", String(partNumber)), ("uploadId", uploadID)], body: body)
        guard response.status.code == 200 else { throw await failure("UPLOAD-PART", key: key, response) }
        await Self.drain(response)
        return try Self.etag("UPLOAD-PART", response.headers)
    }

    /// Completes the upload from `parts`; returns the object's ETag, or nil when the condition
    /// failed (412, or 409 ConditionalRequestConflict): the upload is then still open (abort it).
    public func completeMultipartUpload(_ key: String, uploadID: String, parts: [S3CompletedPart],
                                        condition: S3Condition = .none) async throws(S3Error) -> String? {
        guard !parts.isEmpty else { throw .invalidArgument("a multipart upload needs at least one part") }
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts.sorted(by: { $0.partNumber < $1.partNumber }) {
            xml += "<Part><PartNumber>\(part.partNumber)</PartNumber><ETag>\(S3XML.escape(part.etag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        var headers = Self.conditionHeaders(condition)
        headers.append(("content-type", "application/xml"))
        let response = try await send("COMPLETE-MULTIPART", method: .POST, key: key, query: [("uploadId", uploadID)],
                                      headers: headers, body: ByteBuffer(string: xml))
        switch response.status.code {
        case 200:
            // S3 may answer 200 and then report an error in the body (the work takes a while).
            let bytes = try await collectXML("COMPLETE-MULTIPART", response)
            if let error = Self.embeddedError("COMPLETE-MULTIPART", key: key, bytes) {
                if Self.conditionFailed(error, condition) { return nil }
                throw error
            }
            if let etag = S3XML.decode(ETagResult.self, bytes)?.etag, !etag.isEmpty { return etag }
            if let etag = response.headers.first(name: "etag"), !etag.isEmpty { return etag }
            throw .invalidResponse(operation: "COMPLETE-MULTIPART", reason: "no ETag in the answer")
        default:
            let error = await failure("COMPLETE-MULTIPART", key: key, response)
            if Self.conditionFailed(error, condition) { return nil }
            throw error
        }
    }

    /// Aborts the upload and frees its parts; aborting one that is gone is not an error.
    public func abortMultipartUpload(_ key: String, uploadID: String) async throws(S3Error) {
        let response = try await send("ABORT-MULTIPART", method: .DELETE, key: key, query: [("uploadId", uploadID)])
        switch response.status.code {
        case 200, 204, 404:
            await Self.drain(response)
        default:
            throw await failure("ABORT-MULTIPART", key: key, response)
        }
    }
}
