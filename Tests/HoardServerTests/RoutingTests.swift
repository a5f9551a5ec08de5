import Foundation
import HoardServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Which front answers which raw path and method, and how: the routing table end to end over a
/// live socket, with a conda channel pulled through from a live fake upstream. Every GET is
/// also sent as HEAD, which must answer the same status and headers (Content-Length included)
/// with no body.
@Suite struct RoutingTests {
    struct Case: Sendable, CustomStringConvertible {
        let method: HTTPRequest.Method
        let path: String
        let status: Int
        /// "text", "json" (OCI/JSON answers) or nil when the answer's type does not matter here.
        let kind: String?
        var allow: String? = nil
        /// Text the body must contain.
        var contains: String? = nil

        var description: String { "\(method.rawValue) \(path)" }
    }

    static let unknownEmpty = "unknown channel ''"
    static let cases: [Case] = [
        // /healthz: exactly that path.
        Case(method: .get, path: "/healthz", status: 200, kind: "json", contains: "\"status\":\"ok\""),
        Case(method: .post, path: "/healthz", status: 405, kind: "text", allow: "GET, HEAD"),
        Case(method: .delete, path: "/healthz", status: 405, kind: "text", allow: "GET, HEAD"),
        Case(method: .get, path: "/healthz/", status: 404, kind: "text", contains: "unknown channel 'healthz'"),
        Case(method: .get, path: "//healthz", status: 404, kind: "text", contains: unknownEmpty),
        // The web page: exactly `/` (views are query parameters); `//` is no path of it.
        Case(method: .get, path: "/", status: 200, kind: "html", contains: "id=\"channel-fixture\""),
        Case(method: .post, path: "/", status: 405, kind: "text", allow: "GET, HEAD"),
        Case(method: .get, path: "//", status: 404, kind: "text", contains: unknownEmpty),
        Case(method: .get, path: "/?channel=nope", status: 404, kind: "html", contains: "unknown channel &#39;nope&#39;"),
        Case(method: .get, path: "/healthzz", status: 404, kind: "text", contains: "unknown channel 'healthzz'"),
        // Conda channels: a configured first segment only; an unknown one lists the channels.
        Case(method: .get, path: "/fixture/noarch/repodata.json", status: 200, kind: "json", contains: "fx-lib-1.0-0.conda"),
        Case(method: .get, path: "/fixture/noarch/fx-lib-1.0-0.conda", status: 200, kind: nil, contains: "fx-lib 1.0 conda archive"),
        Case(method: .get, path: "/fixture/noarch/missing-1.0-0.conda", status: 404, kind: "text"),
        Case(method: .post, path: "/fixture/noarch/repodata.json", status: 405, kind: "text", allow: "GET, HEAD"),
        Case(method: .put, path: "/fixture/noarch/fx-lib-1.0-0.conda", status: 405, kind: "text", allow: "GET, HEAD"),
        Case(method: .get, path: "/fixture", status: 404, kind: "text"),
        Case(method: .get, path: "/fixture/", status: 400, kind: "text", contains: "empty path segment"),
        Case(method: .get, path: "/fixture//noarch/repodata.json", status: 400, kind: "text", contains: "empty path segment"),
        Case(method: .get, path: "/fixture/noarch%2Frepodata.json", status: 400, kind: "text", contains: "encoded '/'"),
        Case(method: .get, path: "/fixture/noarch/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", status: 400, kind: "text"),
        Case(method: .get, path: "/nope/noarch/repodata.json", status: 404, kind: "text", contains: "unknown channel 'nope'; this hoard serves: fixture"),
        Case(method: .post, path: "/nope/noarch/repodata.json", status: 404, kind: "text", contains: "unknown channel 'nope'"),
        Case(method: .get, path: "//fixture/noarch/repodata.json", status: 404, kind: "text", contains: unknownEmpty),
        Case(method: .get, path: "/fixture%2Fnoarch/repodata.json", status: 404, kind: "text", contains: "unknown channel 'fixture%2Fnoarch'"),
        // The OCI front: /v2 and everything under /v2/, parsed by OCIRoute from the raw path.
        Case(method: .get, path: "/v2", status: 200, kind: "json", contains: "{}"),
        Case(method: .get, path: "/v2/", status: 200, kind: "json", contains: "{}"),
        Case(method: .patch, path: "/v2/", status: 405, kind: "json", allow: "GET, HEAD", contains: "UNSUPPORTED"),
        Case(method: .get, path: "/v2/nothing/here/manifests/latest", status: 404, kind: "json", contains: "MANIFEST_UNKNOWN"),
        Case(method: .get, path: "/v2/a%2Fb/tags/list", status: 400, kind: "json", contains: "NAME_INVALID"),
        Case(method: .get, path: "/v2//x/tags/list", status: 400, kind: "json", contains: "NAME_INVALID"),
        Case(method: .get, path: "/v2/x/nothing", status: 404, kind: "json", contains: "no OCI endpoint"),
        Case(method: .get, path: "//v2/", status: 404, kind: "text", contains: unknownEmpty),
        Case(method: .get, path: "/v2x/", status: 404, kind: "text", contains: "unknown channel 'v2x'"),
        // The token endpoint: exactly /token.
        Case(method: .get, path: "/token?service=hoard&scope=repository:x:pull", status: 200, kind: "json", contains: "\"token\""),
        Case(method: .post, path: "/token", status: 405, kind: "text", allow: "GET, HEAD"),
        Case(method: .get, path: "/token/", status: 404, kind: "text", contains: "unknown channel 'token'"),
        // A subdir's listing, from the repodata fetched above; its download links are the channel's.
        Case(method: .get, path: "/?channel=fixture&subdir=noarch", status: 200, kind: "html", contains: "href=\"/fixture/noarch/fx-lib-1.0-0.conda\""),
    ]

    @Test func everyFrontAnswersItsPathsAndHeadMirrorsGet() async throws {
        let upstream = FakeCondaUpstream()
        let base = try OCITestServer(withUsers: false)
        defer { base.remove() }
        let failures: [String] = try await upstream.run { url in
            var server = base
            server.settings.channels = [CondaChannel(name: "fixture", upstream: url)]
            return try await server.run { client, _ in
                var failures: [String] = []
                for c in Self.cases {
                    let response = try await client.execute(uri: c.path, method: c.method)
                    failures += Self.check(c, response)
                    guard c.method == .get else { continue }
                    let head = try await client.execute(uri: c.path, method: .head)
                    if head.status != response.status { failures.append("HEAD \(c.path): status \(head.status.code), GET \(response.status.code)") }
                    if head.body.readableBytes != 0 { failures.append("HEAD \(c.path): \(head.body.readableBytes) body bytes") }
                    for name in [HTTPFields.Element.Name.contentLength, .contentType, .allow, .eTag, .cacheControl]
                    where head.headers[name] != response.headers[name] {
                        failures.append("HEAD \(c.path): \(name) \(head.headers[name] ?? "none"), GET \(response.headers[name] ?? "none")")
                    }
                }
                return failures
            }
        }
        #expect(failures == [])
    }

    /// A method no front implements (WebDAV's PROPFIND, which the HTTP parser accepts) is 501
    /// Not Implemented, as RFC 9110 §9.1 says for unrecognized methods, on every front: 405
    /// (with `Allow`) is for methods hoard knows but the resource does not allow.
    @Test func methodsNoFrontImplementsAre501() async throws {
        let server = try OCITestServer(withUsers: false)
        defer { server.remove() }
        try await server.run { client, _ in
            for path in ["/healthz", "/v2/", "/v2/x/manifests/latest", "/token", "/conda-forge/noarch/repodata.json", "/nope/x"] {
                let response = try await client.execute(uri: path, method: HTTPRequest.Method("PROPFIND")!)
                #expect(response.status == .notImplemented, "\(path): \(response.status)")
                #expect(response.headers[.allow] == nil, "\(path)")
                #expect(String(buffer: response.body).contains("PROPFIND"), "\(path)")
            }
        }
    }

    static func check(_ c: Case, _ response: TestResponse) -> [String] {
        var failures: [String] = []
        let body = String(buffer: response.body)
        if Int(response.status.code) != c.status { failures.append("\(c): status \(response.status.code), expected \(c.status): \(body.prefix(200))") }
        let type = response.headers[.contentType] ?? ""
        switch c.kind {
        case "text" where !type.hasPrefix("text/plain"): failures.append("\(c): Content-Type \(type), expected text/plain")
        case "json" where type != "application/json": failures.append("\(c): Content-Type \(type), expected application/json")
        case "html" where type != "text/html; charset=utf-8": failures.append("\(c): Content-Type \(type), expected text/html")
        default: break
        }
        if c.kind == "json", c.path.hasPrefix("/v2"), response.headers[.init("Docker-Distribution-API-Version")!] != "registry/2.0" {
            failures.append("\(c): no Docker-Distribution-API-Version")
        }
        if response.headers[.allow] != c.allow { failures.append("\(c): Allow \(response.headers[.allow] ?? "none"), expected \(c.allow ?? "none")") }
        if let text = c.contains, !body.contains(text) { failures.append("\(c): body lacks \(text.debugDescription): \(body.prefix(200))") }
        if let length = response.headers[.contentLength], Int(length) != response.body.readableBytes {
            failures.append("\(c): Content-Length \(length), body \(response.body.readableBytes) bytes")
        }
        return failures
    }
}
