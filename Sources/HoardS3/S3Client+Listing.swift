import AsyncHTTPClient
import Foundation
import HoardS3Wire
import NIOCore

extension S3Client {
    /// Objects whose key (relative) starts with `prefix`, in key order, after `startAfter` when
    /// given, at most `limit` of them; follows ListObjectsV2 continuation tokens (1,000 per page).
    public func list(prefix: String, startAfter: String? = nil, limit: Int? = nil) async throws(S3Error) -> [S3ObjectSummary] {
        if let limit, limit <= 0 { return [] }
        let fullPrefix = location.prefix.isEmpty ? prefix : location.prefix + "/" + prefix
        var results: [S3ObjectSummary] = []
        var token: String?
        while true {
            var query: [(name: String, value: String)] = [("list-type", "2")]
            if !fullPrefix.isEmpty { query.append(("prefix", fullPrefix)) }
            let pageSize = limit.map { min(1000, $0 - results.count) } ?? 1000
            query.append(("max-keys", String(pageSize)))
            if let token {
                query.append(("continuation-token", token))
            } else if let startAfter {
                query.append(("start-after", location.objectKey(startAfter)))
            }
            let response = try await send("LIST", method: .GET, key: nil, query: query)
            guard response.status.code == 200 else { throw await failure("LIST", key: prefix, response) }
            let bytes = try await collectXML("LIST", response)
            guard let page = S3XML.decode(ListBucketResult.self, bytes) else {
                throw .invalidResponse(operation: "LIST", reason: "not a ListBucketResult document")
            }
            for item in page.contents ?? [] {
                guard let relative = location.relativeKey(item.key) else { continue }
                guard let sizeText = item.size, let size = S3Number.nonNegative(sizeText) else {
                    throw .invalidResponse(operation: "LIST", reason: "object \(item.key) has no usable Size")
                }
                results.append(S3ObjectSummary(key: relative, size: size, etag: item.etag,
                                               lastModified: item.lastModified.flatMap(UTCTime.parseISO8601)))
                if let limit, results.count >= limit { return results }
            }
            guard S3XML.isTrue(page.isTruncated) else { return results }
            guard let next = page.nextContinuationToken, !next.isEmpty, next != token else {
                throw .invalidResponse(operation: "LIST", reason: "a truncated listing without a new continuation token")
            }
            token = next
        }
    }

    /// Multipart uploads in progress whose key (relative) starts with `prefix`; follows the
    /// key/upload-id markers over pages.
    public func listMultipartUploads(prefix: String) async throws(S3Error) -> [S3MultipartUploadSummary] {
        let fullPrefix = location.prefix.isEmpty ? prefix : location.prefix + "/" + prefix
        var results: [S3MultipartUploadSummary] = []
        var keyMarker: String?
        var uploadIDMarker: String?
        while true {
            var query: [(name: String, value: String)] = [("uploads", "")]
            if !fullPrefix.isEmpty { query.append(("prefix", fullPrefix)) }
            if let keyMarker { query.append(("key-marker", keyMarker)) }
            if let uploadIDMarker { query.append(("upload-id-marker", uploadIDMarker)) }
            let response = try await send("LIST-UPLOADS", method: .GET, key: nil, query: query)
            guard response.status.code == 200 else { throw await failure("LIST-UPLOADS", key: prefix, response) }
            let bytes = try await collectXML("LIST-UPLOADS", response)
            guard let page = S3XML.decode(ListMultipartUploadsResult.self, bytes) else {
                throw .invalidResponse(operation: "LIST-UPLOADS", reason: "not a ListMultipartUploadsResult document")
            }
            for upload in page.uploads ?? [] {
                guard let relative = location.relativeKey(upload.key) else { continue }
                results.append(S3MultipartUploadSummary(key: relative, uploadID: upload.uploadID,
                                                        initiated: upload.initiated.flatMap(UTCTime.parseISO8601)))
            }
            guard S3XML.isTrue(page.isTruncated) else { return results }
            let nextKey = page.nextKeyMarker.flatMap { $0.isEmpty ? nil : $0 }
            let nextUpload = page.nextUploadIDMarker.flatMap { $0.isEmpty ? nil : $0 }
            guard nextKey != nil, nextKey != keyMarker || nextUpload != uploadIDMarker else {
                throw .invalidResponse(operation: "LIST-UPLOADS", reason: "a truncated listing without new markers")
            }
            keyMarker = nextKey
            uploadIDMarker = nextUpload
        }
    }
}
