import AsyncHTTPClient
import HoardS3Wire
import NIOCore

extension S3Client {
    /// The largest object one CopyObject may copy (S3's limit: 5 GiB); larger ones are copied
    /// part by part (UploadPartCopy).
    public static let singleCopyLimit: Int64 = 5 << 30

    /// Copies `source` (of `size` bytes) to `destination` as a multipart upload whose parts are
    /// server-side copies of `partSize`-byte ranges (the last shorter), completed with
    /// `condition`; returns the new ETag, or nil when the condition failed. Aborted on any
    /// failure, so nothing half-copied stays behind.
    public func copyInParts(from source: String, to destination: String, size: Int64, partSize: Int64 = 512 << 20,
                            condition: S3Condition = .none) async throws(S3Error) -> String? {
        guard partSize >= 5 << 20, size > 0 else {
            throw .invalidArgument("a copy in parts needs parts of at least 5 MiB and a non-empty source")
        }
        let (count, remainder) = size.quotientAndRemainder(dividingBy: partSize)
        guard count + (remainder > 0 ? 1 : 0) <= 10_000 else {
            throw .invalidArgument("a copy of \(size) bytes in parts of \(partSize) needs more than 10000 parts")
        }
        let copySource = "/" + location.bucket + "/" + SigV4Signer.encodePath(try objectKey(source))
        let uploadID = try await createMultipartUpload(destination)
        do throws(S3Error) {
            var parts: [S3CompletedPart] = []
            var offset: Int64 = 0
            while offset < size {
                let last = min(offset + partSize, size) - 1
                let partNumber = parts.count + 1
                let response = try await send(
                    "UPLOAD-PART-COPY", method: .PUT, key: destination,
                    query: [("partNumber", String(partNumber)), ("uploadId", uploadID)],
                    headers: [("x-amz-copy-source", copySource), ("x-amz-copy-source-range", "bytes=\(offset)-\(last)")])
                guard response.status.code == 200 else { throw await failure("UPLOAD-PART-COPY", key: destination, response) }
                let bytes = try await collectXML("UPLOAD-PART-COPY", response)
                if let error = Self.embeddedError("UPLOAD-PART-COPY", key: destination, bytes) { throw error }
                guard let etag = S3XML.decode(ETagResult.self, bytes)?.etag, !etag.isEmpty else {
                    throw S3Error.invalidResponse(operation: "UPLOAD-PART-COPY", reason: "no ETag in the answer")
                }
                parts.append(S3CompletedPart(partNumber: partNumber, etag: etag))
                offset = last + 1
            }
            guard let etag = try await completeMultipartUpload(destination, uploadID: uploadID, parts: parts, condition: condition) else {
                try? await abortMultipartUpload(destination, uploadID: uploadID)
                return nil
            }
            return etag
        } catch {
            try? await abortMultipartUpload(destination, uploadID: uploadID)
            throw error
        }
    }
}
