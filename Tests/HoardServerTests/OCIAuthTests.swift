import Foundation
import HoardOCI
import HoardServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite struct OCIAuthTests {
    struct Token: Decodable { let token: String; let access_token: String; let expires_in: Int }

    @Test func writesNeedCredentials() async throws {
        let server = try OCITestServer()
        defer { server.remove() }
        try await server.run { client, _ in
            let anonymous = try await client.send(.post, "/v2/team/app/blobs/uploads/", auth: nil)
            #expect(anonymous.status == .unauthorized && errorCode(anonymous) == "UNAUTHORIZED")
            let challenge = try #require(anonymous.headers[.wwwAuthenticate])
            #expect(challenge.hasPrefix("Bearer realm=\"http://"))
            #expect(challenge.contains("/token\",service=\"hoard\",scope=\"repository:team/app:pull,push\""))

            let wrong = "Basic " + Data("alice:nope".utf8).base64EncodedString()
            #expect(try await client.send(.post, "/v2/team/app/blobs/uploads/", auth: wrong).status == .unauthorized)
            #expect(try await client.send(.get, "/v2/", auth: wrong).status == .unauthorized)
            #expect(try await client.send(.post, "/v2/team/app/blobs/uploads/").status == .accepted)
            // The probe tells anonymous clients how to authenticate; reads themselves stay open.
            let probe = try await client.send(.get, "/v2/", auth: nil)
            #expect(probe.status == .unauthorized && probe.headers[.wwwAuthenticate]?.hasPrefix("Bearer realm=") == true)
            #expect(try await client.send(.get, "/v2/").status == .ok)
            #expect(try await client.send(.get, "/v2/team/app/tags/list", auth: nil).status == .notFound)
        }
    }

    @Test func tokenFlow() async throws {
        let server = try OCITestServer()
        defer { server.remove() }
        try await server.run { client, _ in
            let issued = try await client.send(.get, "/token?service=hoard&scope=repository:team/app:pull,push")
            #expect(issued.status == .ok)
            let token = try JSONDecoder().decode(Token.self, from: Data(buffer: issued.body))
            #expect(token.token == token.access_token && token.expires_in > 0)
            #expect(try await client.send(.post, "/v2/team/app/blobs/uploads/", auth: "Bearer \(token.token)").status == .accepted)
            // The token is for one repository.
            #expect(try await client.send(.post, "/v2/other/blobs/uploads/", auth: "Bearer \(token.token)").status == .unauthorized)

            // Anonymous tokens grant pull only, for any repository, existing or not.
            let anonymous = try await client.send(.get, "/token?service=hoard&scope=repository:no/such/repo:pull,push", auth: nil)
            #expect(anonymous.status == .ok)
            let pullOnly = try JSONDecoder().decode(Token.self, from: Data(buffer: anonymous.body)).token
            #expect(try await client.send(.get, "/v2/no/such/repo/tags/list", auth: "Bearer \(pullOnly)").status == .notFound)
            #expect(try await client.send(.post, "/v2/no/such/repo/blobs/uploads/", auth: "Bearer \(pullOnly)").status == .unauthorized)

            #expect(try await client.send(.get, "/v2/", auth: "Bearer not.a.token").status == .unauthorized)
            let badPassword = "Basic " + Data("alice:nope".utf8).base64EncodedString()
            #expect(try await client.send(.get, "/token?scope=repository:a:pull", auth: badPassword).status == .unauthorized)
        }
    }

    @Test func readsCanNeedAuthToo() async throws {
        let server = try OCITestServer(authReads: true)
        defer { server.remove() }
        try await server.run { client, _ in
            let ping = try await client.send(.get, "/v2/", auth: nil)
            #expect(ping.status == .unauthorized && ping.headers[.wwwAuthenticate]?.hasPrefix("Bearer ") == true)
            #expect(try await client.send(.get, "/token?scope=repository:a:pull", auth: nil).status == .unauthorized)
            #expect(try await client.send(.get, "/v2/").status == .ok)
            let issued = try await client.send(.get, "/token?service=hoard&scope=repository:a:pull")
            let token = try JSONDecoder().decode(Token.self, from: Data(buffer: issued.body)).token
            #expect(try await client.send(.get, "/v2/", auth: "Bearer \(token)").status == .ok)
            #expect(try await client.send(.get, "/v2/a/tags/list", auth: "Bearer \(token)").status == .notFound)
            #expect(try await client.send(.get, "/v2/a/tags/list", auth: nil).status == .unauthorized)
        }
    }

    @Test func withoutHtpasswdTheRegistryIsReadOnly() async throws {
        let server = try OCITestServer(withUsers: false)
        defer { server.remove() }
        try await server.run { client, _ in
            let push = try await client.send(.post, "/v2/r/blobs/uploads/")
            #expect(push.status == .unauthorized)
            #expect(String(buffer: push.body).contains("--htpasswd"))
            #expect(try await client.send(.get, "/v2/", auth: nil).status == .ok)
            let token = try await client.send(.get, "/token?scope=repository:r:pull", auth: nil)
            #expect(token.status == .ok)
        }
    }

    @Test func wrongPasswordsFromOneClientAreHeldBack() async throws {
        var server = try OCITestServer()
        server.settings.oci.authFailuresPerMinute = 3
        defer { server.remove() }
        try await server.run { client, _ in
            // Alice signs in first: her checked credentials keep working for this client.
            #expect(try await client.send(.get, "/v2/").status == .ok)
            let wrong = "Basic " + Data("alice:nope".utf8).base64EncodedString()
            let other = "Basic " + Data("mallory:guess".utf8).base64EncodedString()
            for auth in [wrong, other, wrong] {
                #expect(try await client.send(.get, "/v2/", auth: auth).status == .unauthorized)
            }
            // The fourth wrong attempt within the minute: 429 with Retry-After, no password checked.
            let held = try await client.send(.get, "/v2/", auth: "Basic " + Data("alice:another".utf8).base64EncodedString())
            #expect(held.status == .tooManyRequests)
            #expect(errorCode(held) == "TOOMANYREQUESTS")
            let retry = try #require(held.headers[.retryAfter].flatMap { Int($0) })
            #expect(retry >= 1 && retry <= 60)
            // The token endpoint checks the same credentials and holds back the same way.
            let token = try await client.send(.get, "/token?scope=repository:a:pull", auth: wrong)
            #expect(token.status == .tooManyRequests && token.headers[.retryAfter] != nil)
            // Anonymous reads and Alice's cached credentials are not affected.
            #expect(try await client.send(.get, "/v2/", auth: nil).status == .unauthorized)  // the probe's challenge
            #expect(try await client.send(.get, "/v2/").status == .ok)
            #expect(try await client.send(.post, "/v2/team/app/blobs/uploads/").status == .accepted)
        }
    }
}
