import Foundation
import Testing

@testable import HoardOCI

@Suite struct UploadAndPaginationTests {
    @Test func malformedContentRangeIsAnUploadError() throws {
        // The parser itself is HoardHTTP's (HoardHTTPTests); uploads report its failures as theirs.
        for bad in ["", "5-4", "99999999999999999999-1", "0-9223372036854775807"] {
            #expect(throws: UploadRangeError.malformed(bad), "\(bad)") {
                try UploadProgress.checkChunk(contentRange: bad, currentOffset: 0, bodyLength: nil)
            }
        }
    }

    @Test func chunkOrder() throws {
        #expect(try UploadProgress.checkChunk(contentRange: "0-9", currentOffset: 0, bodyLength: 10)?.end == 9)
        #expect(try UploadProgress.checkChunk(contentRange: "10-19", currentOffset: 10, bodyLength: 10) != nil)
        #expect(try UploadProgress.checkChunk(contentRange: nil, currentOffset: 10, bodyLength: 10) == nil)
        let gap = try #require(throws: UploadRangeError.self) {
            try UploadProgress.checkChunk(contentRange: "20-29", currentOffset: 10, bodyLength: 10)
        }
        #expect(gap.ociError.status == 416 && gap.ociError.code == .blobUploadInvalid)
        let overlap = try #require(throws: UploadRangeError.self) {
            try UploadProgress.checkChunk(contentRange: "5-14", currentOffset: 10, bodyLength: 10)
        }
        #expect(overlap.ociError.status == 416)
        let short = try #require(throws: UploadRangeError.self) {
            try UploadProgress.checkChunk(contentRange: "10-19", currentOffset: 10, bodyLength: 5)
        }
        #expect(short.ociError.code == .sizeInvalid)
        #expect(UploadProgress.rangeHeader(receivedBytes: 0) == "0-0")
        #expect(UploadProgress.rangeHeader(receivedBytes: 1024) == "0-1023")
    }

    @Test func pagination() throws {
        let tags = (1...25).map { String(format: "t%02d", $0) }
        let first = PageRequest(limit: 10).page(of: tags)
        #expect(first.items == Array(tags[0..<10]) && first.hasMore)
        let second = PageRequest(limit: 10, last: "t10").page(of: tags)
        #expect(second.items.first == "t11" && second.items.count == 10 && second.hasMore)
        let third = PageRequest(limit: 10, last: "t20").page(of: tags)
        #expect(third.items == Array(tags[20...]) && !third.hasMore)
        #expect(PageRequest(limit: 0).page(of: tags) == ([], false))
        #expect(PageRequest(limit: 10, last: "zzz").page(of: tags) == ([], false))
        // `last` need not exist: it is an exclusive lower bound.
        #expect(PageRequest(limit: 2, last: "t05x").page(of: tags).items == ["t06", "t07"])
        // Without n, everything up to the clamp.
        #expect(PageRequest().page(of: tags) == (tags, false))
        #expect(PageRequest().page(of: tags, defaultLimit: 20).hasMore)

        let huge = try PageRequest(query: [("n", "100000000")])
        #expect(huge.limit == PageRequest.maxPageSize)
        let overflow = try PageRequest(query: [("n", "99999999999999999999999")])
        #expect(overflow.limit == PageRequest.maxPageSize)
        #expect(throws: OCIError.self) { try PageRequest(query: [("n", "ten")]) }

        let repo = try RepositoryName("conda-forge/linux-64/zlib")
        #expect(
            PaginationLink.tags(repository: repo, limit: 10, last: "t10")
                == #"</v2/conda-forge/linux-64/zlib/tags/list?n=10&last=t10>; rel="next""#)
        #expect(PaginationLink.catalog(limit: 2, last: "a/b c") == #"</v2/_catalog?n=2&last=a/b%20c>; rel="next""#)
    }
}
