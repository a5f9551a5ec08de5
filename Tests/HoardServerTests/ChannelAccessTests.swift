import Foundation
import HoardStore
import HoardUpstream
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import HoardServer

/// Protected channels over a live socket: the conda front, the OCI mirror view and `/token`,
/// with the fast path on (it must never answer for a protected channel).
@Suite struct ChannelAccessTests {
    static let repodata = "/noarch/repodata.json"
    static let package = "/noarch/fx-lib-1.0-0.conda"

    @Test func protectedChannelNeedsItsCredentialsEverywhere() async throws {
        let upstream = FakeCondaUpstream()
        var base = try OCITestServer(withUsers: true)
        base.settings.fastPath = true
        let made = base
        defer { made.remove() }
        try await upstream.run { url in
            var server = made
            var priv = CondaChannel(name: "priv", upstream: url)
            priv.readers = server.settings.oci.htpasswdPath  // alice:secret reads it
            server.settings.channels = [CondaChannel(name: "open", upstream: url), priv]
            let store = try await Store.open(root: server.root + "/store")
            let hoard = HoardServer(settings: server.settings, store: store, logger: Logger(label: "test"))
            try await hoard.withServices { application in
                try await application.makeApplication().test(.live) { client in
                    try await Self.exercise(client, store: store, hot: try #require(application.hot))
                }
            }
        }
    }

    static func exercise(_ client: any TestClientProtocol, store: Store, hot: HotTable) async throws {
        let token = ChannelToken.generate()
        let added = try await store.index.addChannelToken(channel: "priv", tokenHash: ChannelToken.hash(token), expiresAt: nil)
        let wrong = ChannelToken.prefix + String(repeating: "0", count: 64)

        // Anonymous: 401 with a challenge, for documents, packages, any method.
        for path in ["/priv" + repodata, "/priv" + package, "/priv/channeldata.json"] {
            let response = try await client.send(.get, path, auth: nil)
            #expect(response.status == .unauthorized, "\(path)")
            #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Basic realm=\"hoard channel priv\"") == true)
        }
        #expect(try await client.send(.post, "/priv" + repodata, auth: nil).status == .unauthorized)
        // A wrong token is 401, not 404; so are a wrong password, and a token of another channel.
        #expect(try await client.send(.get, "/t/\(wrong)/priv" + repodata, auth: nil).status == .unauthorized)
        #expect(try await client.send(.get, "/priv" + repodata, auth: "Bearer \(wrong)").status == .unauthorized)
        #expect(try await client.send(.get, "/priv" + repodata, auth: "Basic " + Data("alice:nope".utf8).base64EncodedString()).status == .unauthorized)

        // Each way in: the path token, Bearer, a reader's Basic, the token as a Basic password.
        for _ in 0..<2 {
            #expect(try await client.send(.get, "/t/\(token)/priv" + repodata, auth: nil).status == .ok)
            #expect(try await client.send(.get, "/t/\(token)/priv" + package, auth: nil).status == .ok)
            #expect(try await client.send(.get, "/priv" + package, auth: "Bearer \(token)").status == .ok)
            #expect(try await client.send(.get, "/priv" + repodata, auth: OCITestServer.alice).status == .ok)
            #expect(try await client.send(.get, "/priv" + repodata, auth: "Basic " + Data("any:\(token)".utf8).base64EncodedString()).status == .ok)
            // The open channel, twice, so the fast path's table holds its answers.
            #expect(try await client.send(.get, "/open" + repodata, auth: nil).status == .ok)
            #expect(try await client.send(.get, "/open" + package, auth: nil).status == .ok)
        }
        // Once the pull-through has committed, the open channel's package is published (so the
        // checks below can fail); a bounded number of tries.
        for _ in 0..<50 where hot.lookup("/open" + package, now: Date().timeIntervalSince1970) == nil {
            #expect(try await client.send(.get, "/open" + package, auth: nil).status == .ok)
            #expect(try await client.send(.get, "/t/\(token)/priv" + package, auth: nil).status == .ok)
            try await Task.sleep(for: .milliseconds(20))
        }
        let now = Date().timeIntervalSince1970
        #expect(hot.lookup("/open" + package, now: now) != nil, "the open channel is published (the check below can fail)")
        #expect(hot.lookup("/priv" + package, now: now) == nil)
        #expect(hot.lookup("/priv" + repodata, now: now) == nil)
        #expect(try await client.send(.get, "/priv" + package, auth: nil).status == .unauthorized)

        // The OCI mirror view: a Bearer challenge for the channel's repository; /token grants its
        // pull scope to readers and token holders only; the open channel's mirror stays open.
        let manifest = "/v2/conda/priv/noarch/repodata.json/manifests/latest"
        let accept: HTTPFields = [.accept: "application/vnd.oci.image.manifest.v1+json"]
        let anonymous = try await client.send(.get, manifest, headers: accept, auth: nil)
        #expect(anonymous.status == .unauthorized)
        let challenge = anonymous.headers[.wwwAuthenticate] ?? ""
        #expect(challenge.hasPrefix("Bearer ") && challenge.contains("repository:conda/priv/noarch/repodata.json:pull"))
        #expect(try await client.send(.get, "/v2/conda/open/noarch/repodata.json/manifests/latest", headers: accept, auth: nil).status == .ok)
        let scope = "/token?service=hoard&scope=repository:conda/priv/noarch/repodata.json:pull"
        #expect(try await client.send(.get, scope, auth: nil).status == .unauthorized)
        #expect(try await client.send(.get, scope, auth: "Basic " + Data("x:\(wrong)".utf8).base64EncodedString()).status == .unauthorized)
        // An anonymous registry token (granted for an open repository) does not open it.
        let openToken = try await client.send(.get, "/token?service=hoard&scope=repository:conda/open/noarch/repodata.json:pull", auth: nil)
        let openBearer = try Self.bearer(openToken)
        #expect(try await client.send(.get, manifest, headers: accept, auth: "Bearer \(openBearer)").status == .unauthorized)
        let granted = try await client.send(.get, scope, auth: "Basic " + Data("x:\(token)".utf8).base64EncodedString())
        #expect(granted.status == .ok)
        #expect(try await client.send(.get, manifest, headers: accept, auth: "Bearer \(try Self.bearer(granted))").status == .ok)
        #expect(try await client.send(.get, manifest, headers: accept, auth: OCITestServer.alice).status == .ok)
        #expect(try await client.send(.get, manifest, headers: accept, auth: "Bearer \(token)").status == .ok)

        // Revoked: refused at once.
        #expect(try await store.index.revokeChannelToken(idOrHash: added.id))
        #expect(try await client.send(.get, "/t/\(token)/priv" + repodata, auth: nil).status == .unauthorized)
        #expect(try await client.send(.get, manifest, headers: accept, auth: "Bearer \(token)").status == .unauthorized)
    }

    static func bearer(_ response: TestResponse) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
        return try #require(object?["token"] as? String)
    }

    /// An upstream that wants credentials: a 401 is an error naming the channel and where the
    /// credentials came from, never a 404; configured credentials are sent and work.
    @Test func upstreamRefusalNamesChannelAndSource() async throws {
        let router = Router()
        router.get("/secure/**") { request, _ -> Response in
            let expected = "Basic " + Data("ci:pw".utf8).base64EncodedString()
            guard request.headers[.authorization] == expected else { return Response(status: .unauthorized) }
            guard request.uri.path.hasSuffix("/repodata.json") else { return Response(status: .notFound) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: #"{"info":{"subdir":"noarch"},"packages":{},"packages.conda":{}}"#)))
        }
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { upstream in
            let url = "http://127.0.0.1:\(upstream.port!)/secure"
            var server = try OCITestServer(withUsers: false)
            defer { server.remove() }
            var withCredentials = CondaChannel(name: "good", upstream: url)
            withCredentials.upstreamCredential = .basic(username: "ci", password: "pw")
            var wrong = CondaChannel(name: "bad", upstream: url)
            wrong.upstreamCredential = .basic(username: "ci", password: "nope")
            server.settings.channels = [CondaChannel(name: "none", upstream: url), withCredentials, wrong]
            try await server.run { client, _ in
                let none = try await client.send(.get, "/none/noarch/repodata.json", auth: nil)
                #expect(none.status == .badGateway)
                let text = String(buffer: none.body)
                #expect(text.contains("channel none") && text.contains("HTTP 401") && text.contains("no credentials"), "\(text)")
                let bad = try await client.send(.get, "/bad/noarch/repodata.json", auth: nil)
                #expect(bad.status == .badGateway)
                #expect(String(buffer: bad.body).contains("[channels.bad]") && !String(buffer: bad.body).contains("nope"))
                #expect(try await client.send(.get, "/good/noarch/repodata.json", auth: nil).status == .ok)
            }
        }
    }
}
