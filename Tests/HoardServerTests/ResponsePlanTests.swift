import HTTPTypes
import HoardOCI
import Testing
@testable import HoardServer

/// The one serving decision: status, headers and body range for every GET/HEAD of a representation.
@Suite struct ResponsePlanTests {
    let lastModified = "Sun, 06 Nov 1994 08:49:37 GMT"

    func representation(size: Int64 = 100, errorFormat: ResponsePlan.ErrorFormat = .text) -> ResponsePlan.Representation {
        ResponsePlan.Representation(
            size: size, validators: Validators(digestHex: "abc", lastModified: 784111777),
            contentType: "application/octet-stream", cacheControl: "public, max-age=31536000, immutable",
            extraHeaders: [HTTPField.Name("Docker-Content-Digest")!: "sha256:abc"], errorFormat: errorFormat)
    }

    func plan(_ method: HTTPRequest.Method = .get, _ headers: HTTPFields = [:], size: Int64 = 100,
              errorFormat: ResponsePlan.ErrorFormat = .text) -> ResponsePlan {
        ResponsePlan(method: method, headers: headers, representation: representation(size: size, errorFormat: errorFormat))
    }

    @Test func wholeRepresentation() {
        let ok = plan()
        #expect(ok.status == .ok && ok.body == .representation(0..<100))
        #expect(ok.headers[.contentLength] == "100" && ok.headers[.contentType] == "application/octet-stream")
        #expect(ok.headers[.eTag] == "\"abc\"" && ok.headers[.lastModified] == lastModified)
        #expect(ok.headers[.acceptRanges] == "bytes" && ok.headers[.cacheControl] == "public, max-age=31536000, immutable")
        #expect(ok.headers[HTTPField.Name("Docker-Content-Digest")!] == "sha256:abc")
        #expect(ok.headers[.contentRange] == nil)
    }

    @Test func headIsGetWithoutBody() {
        for headers: HTTPFields in [[:], [.range: "bytes=10-19"], [.range: "bytes=500-"], [.ifNoneMatch: "\"abc\""]] {
            let get = plan(.get, headers), head = plan(.head, headers)
            #expect(head.status == get.status && head.headers == get.headers, "\(headers)")
            #expect(head.body == .none, "\(headers)")
        }
        #expect(plan(.head, [.range: "bytes=500-"]).headers[.contentLength] != nil)
    }

    @Test func notModified() {
        for headers: HTTPFields in [[.ifNoneMatch: "\"abc\""], [.ifNoneMatch: "W/\"abc\""], [.ifNoneMatch: "*"],
                                    [.ifModifiedSince: lastModified], [.ifNoneMatch: "\"abc\"", .range: "bytes=0-9"]] {
            let p = plan(.get, headers)
            #expect(p.status == .notModified && p.body == .none, "\(headers)")
            #expect(p.headers[.eTag] == "\"abc\"" && p.headers[.cacheControl] != nil && p.headers[.contentType] == nil)
            #expect(p.headers[HTTPField.Name("Docker-Content-Digest")!] == "sha256:abc")
        }
        #expect(plan(.get, [.ifNoneMatch: "\"other\""]).status == .ok)
        // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
        #expect(plan(.get, [.ifNoneMatch: "\"other\"", .ifModifiedSince: lastModified]).status == .ok)
    }

    @Test func partial() {
        let p = plan(.get, [.range: "bytes=10-19"])
        #expect(p.status == .partialContent && p.body == .representation(10..<20))
        #expect(p.headers[.contentRange] == "bytes 10-19/100" && p.headers[.contentLength] == "10")
        #expect(plan(.get, [.range: "bytes=-1"]).body == .representation(99..<100))
        #expect(plan(.get, [.range: "bytes=0-"]).body == .representation(0..<100))
        #expect(plan(.get, [.range: "bytes=0-"]).status == .partialContent)
        #expect(plan(.get, [.range: "bytes=90-\(String(repeating: "9", count: 30))"]).body == .representation(90..<100))
    }

    @Test func invalidRangeIsIgnored() {
        for range in ["bytes=9-3", "bytes=0-1,5-6", "bytes=x-", "items=0-1", "bytes=1 -2", "bytes=0-1,9-3"] {
            let p = plan(.get, [.range: range])
            #expect(p.status == .ok && p.body == .representation(0..<100) && p.headers[.contentRange] == nil, "\(range)")
        }
    }

    @Test func unsatisfiable() {
        for range in ["bytes=100-", "bytes=-0", "bytes=100-200,300-", "bytes=\(String(repeating: "9", count: 30))-"] {
            let p = plan(.get, [.range: range])
            #expect(p.status == .rangeNotSatisfiable, "\(range)")
            #expect(p.headers[.contentRange] == "bytes */100")
            #expect(p.headers[.contentType] == "text/plain; charset=utf-8")
            // Never cached under the representation's URL.
            #expect(p.headers[.cacheControl] == "no-store")
            guard case .message(let bytes) = p.body else { Issue.record("no message for \(range)"); continue }
            #expect(p.headers[.contentLength] == String(bytes.count))
        }
        let oci = plan(.get, [.range: "bytes=100-"], errorFormat: .oci)
        #expect(oci.status == .rangeNotSatisfiable && oci.headers[.contentType] == "application/json")
        guard case .message(let bytes) = oci.body else { Issue.record("no OCI error body"); return }
        #expect(String(decoding: bytes, as: UTF8.self).contains("\"code\":\"BLOB_UNKNOWN\""))
    }

    @Test func ifRange() {
        #expect(plan(.get, [.range: "bytes=0-9", .ifRange: "\"abc\""]).status == .partialContent)
        #expect(plan(.get, [.range: "bytes=0-9", .ifRange: lastModified]).status == .partialContent)
        for stale in ["\"old\"", "W/\"abc\"", "Sun, 06 Nov 1994 08:49:36 GMT", "garbage"] {
            let p = plan(.get, [.range: "bytes=0-9", .ifRange: stale])
            #expect(p.status == .ok && p.body == .representation(0..<100), "\(stale)")
        }
        // A failed If-Range also ignores an unsatisfiable range: the whole, current representation.
        #expect(plan(.get, [.range: "bytes=500-", .ifRange: "\"old\""]).status == .ok)
    }

    @Test func emptyRepresentation() {
        let ok = plan(size: 0)
        #expect(ok.status == .ok && ok.body == .representation(0..<0) && ok.headers[.contentLength] == "0")
        // No byte to start a range at: 416, as every other representation.
        let p = plan(.get, [.range: "bytes=0-10"], size: 0)
        #expect(p.status == .rangeNotSatisfiable && p.headers[.contentRange] == "bytes */0")
        // A suffix is satisfiable, with nothing to send: the empty whole.
        #expect(plan(.get, [.range: "bytes=-5"], size: 0).status == .ok)
    }
}
