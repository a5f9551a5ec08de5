import Foundation
import Testing

@testable import HoardOCI

/// Runs a program and returns its stdout; nil when it is not installed.
func runTool(_ path: String, _ args: [String]) throws -> String? {
    guard FileManager.default.isExecutableFile(atPath: path) else { return nil }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

let htpasswdPath = "/usr/bin/htpasswd"

@Suite struct HtpasswdTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: htpasswdPath), "htpasswd (apache2-utils) missing"))
    func realHtpasswdEntries() throws {
        let alice = try #require(try runTool(htpasswdPath, ["-Bbn", "alice", "s3cret:with colon"]))
        let bob = try #require(try runTool(htpasswdPath, ["-Bbn", "-C", "6", "bob", "hunter2"]))
        #expect(alice.contains("$2y$"))
        let file = "# users\n\n" + alice.trimmingCharacters(in: .newlines) + "\r\n" + bob
        let h = try Htpasswd(contents: file)
        #expect(h.users.count == 2)
        #expect(h.verify(user: "alice", password: "s3cret:with colon"))
        #expect(!h.verify(user: "alice", password: "s3cret:with colo"))
        #expect(!h.verify(user: "alice", password: ""))
        #expect(h.verify(user: "bob", password: "hunter2"))
        #expect(!h.verify(user: "bob", password: "s3cret:with colon"))
        #expect(!h.verify(user: "carol", password: "hunter2"))
        // $2b$ and $2a$ spellings of the same hash verify too (libxcrypt accepts all three).
        let bobHash = h.users["bob"]!
        for prefix in ["$2b$", "$2a$"] {
            let other = try Htpasswd(contents: "bob:" + prefix + bobHash.dropFirst(4))
            #expect(other.verify(user: "bob", password: "hunter2"))
        }

        // Loading from a path.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hoard-htpasswd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("htpasswd").path
        try file.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try Htpasswd(path: path).verify(user: "alice", password: "s3cret:with colon"))
    }

    @Test func rejectsOtherSchemesNamingTheLine() throws {
        let md5 = try #require(throws: HtpasswdError.self) {
            try Htpasswd(contents: "# c\nalice:$apr1$abcdefgh$0123456789abcdefghijkl\n", source: "/etc/hoard/htpasswd")
        }
        #expect(md5 == .unsupportedScheme(source: "/etc/hoard/htpasswd", line: 2, user: "alice", scheme: "Apache MD5 ($apr1$)"))
        #expect(md5.message.contains("/etc/hoard/htpasswd:2") && md5.message.contains("htpasswd -B"))
        #expect(throws: HtpasswdError.unsupportedScheme(source: "htpasswd", line: 1, user: "u", scheme: "SHA-1 ({SHA})")) {
            try Htpasswd(contents: "u:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=")
        }
        #expect(throws: HtpasswdError.unsupportedScheme(source: "htpasswd", line: 1, user: "u", scheme: "crypt or plain text")) {
            try Htpasswd(contents: "u:plaintext")
        }
        #expect(throws: HtpasswdError.malformedLine(source: "htpasswd", line: 1, reason: "expected user:hash")) {
            try Htpasswd(contents: "nocolon")
        }
        let dup = "u:$2y$05$kD9pzeVb4ALnx42lyWXh8.eVrp0IUGLUTDN9zkjcA1uLCXOaiiyeu\n"
        #expect(throws: HtpasswdError.duplicateUser(source: "htpasswd", line: 2, user: "u")) { try Htpasswd(contents: dup + dup) }
        #expect(throws: HtpasswdError.self) { try Htpasswd(path: "/nonexistent/htpasswd") }
    }

    @Test func garbageBcryptNeverMatches() throws {
        let h = try Htpasswd(contents: "u:$2y$05$short")
        #expect(!h.verify(user: "u", password: "x"))
        #expect(!Htpasswd(users: [:]).verify(user: "nobody", password: "x"))
    }

    @Test func constantTimeEqual() {
        #expect(ConstantTime.equal([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equal([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equal([1, 2, 3], [1, 2]))
        #expect(!ConstantTime.equal([], [0]))
    }
}

extension Htpasswd {
    init(users: [String: String]) { try! self.init(contents: users.map { "\($0):\($1)" }.joined(separator: "\n")) }
}

@Suite struct CredentialTests {
    @Test func basicCredentials() throws {
        let header = BasicCredentials(username: "alice", password: "pa:ss word").authorizationHeader
        #expect(header == "Basic YWxpY2U6cGE6c3Mgd29yZA==")
        let c = try #require(try BasicCredentials(authorizationHeader: header))
        #expect(c.username == "alice" && c.password == "pa:ss word")
        #expect(try BasicCredentials(authorizationHeader: "basic YWxpY2U6") == BasicCredentials(username: "alice", password: ""))
        #expect(try BasicCredentials(authorizationHeader: "Bearer abc") == nil)
        #expect(throws: CredentialsError.self) { try BasicCredentials(authorizationHeader: "Basic !!!") }
        #expect(throws: CredentialsError.self) { try BasicCredentials(authorizationHeader: "Basic YWxpY2U=") }  // no colon
        #expect(throws: CredentialsError.self) { try BasicCredentials(authorizationHeader: "Basic") }
    }

    @Test func scopes() throws {
        let s = try Scope(parsing: "repository:conda-forge/linux-64/zlib:pull,push")
        #expect(s.type == "repository" && s.name == "conda-forge/linux-64/zlib" && s.actions == ["pull", "push"])
        #expect(s.description == "repository:conda-forge/linux-64/zlib:pull,push")
        #expect(try Scope(parsing: "registry:catalog:*").allows("anything"))
        // The name sits between the first and last ":"; hoard's own names cannot hold a port.
        #expect(throws: ScopeError.invalidRepository("repository:localhost:5000/x:pull")) {
            try Scope(parsing: "repository:localhost:5000/x:pull")
        }
        #expect(try Scope(parsing: "repository(plugin):a:pull").type == "repository(plugin)")
        #expect(throws: ScopeError.self) { try Scope(parsing: "repository:x") }
        #expect(throws: ScopeError.self) { try Scope(parsing: "repository:Bad:pull") }
        let all = try Scope.parseAll(query: [
            ("scope", "repository:a:pull"), ("service", "hoard"), ("scope", "repository:b:push repository:a:push,pull"),
        ])
        #expect(all == [Scope(name: "a", actions: ["pull", "push"]), Scope(name: "b", actions: ["push"])])
        #expect(Scope(name: "a", actions: ["pull", "push"]).restricted(to: ["pull"]) == Scope(name: "a", actions: ["pull"]))
        #expect(Scope(name: "a", actions: ["push"]).restricted(to: ["pull"]) == nil)
    }

    @Test func challengeBuilder() {
        let v = AuthChallenge.bearer(
            realm: "https://hoard.example/token", service: "hoard.example",
            scopes: [Scope(name: "a/b", actions: ["pull"]), Scope(name: "c", actions: ["pull", "push"])])
        #expect(v == #"Bearer realm="https://hoard.example/token",service="hoard.example",scope="repository:a/b:pull repository:c:pull,push""#)
        #expect(AuthChallenge.bearer(realm: "r\"x", service: "s", error: "insufficient_scope") == #"Bearer realm="r\"x",service="s",error="insufficient_scope""#)
        // What we build, we parse back.
        let parsed = WWWAuthenticateChallenge.parse(v)
        #expect(parsed.count == 1 && parsed[0].scopes == ["repository:a/b:pull", "repository:c:pull,push"])
        #expect(WWWAuthenticateChallenge.parse(AuthChallenge.bearer(realm: "r\"x", service: "s"))[0].realm == "r\"x")
    }
}

@Suite struct TokenTests {
    let secret = Array("0123456789abcdef0123456789abcdef".utf8)
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func roundTrip() throws {
        let issuer = try TokenIssuer(secret: secret, service: "hoard.example", lifetime: 300)
        let scopes = [Scope(name: "conda-forge/linux-64/zlib", actions: ["pull", "push"])]
        let issued = issuer.issue(subject: "alice", scopes: scopes, now: now)
        #expect(issued.token.split(separator: ".").count == 3)
        #expect(issued.expiresIn == 300)
        let claims = try issuer.verify(issued.token, now: now.addingTimeInterval(299))
        #expect(claims.subject == "alice" && claims.scopes == scopes && claims.audience == "hoard.example")
        #expect(claims.allows("push", on: try RepositoryName("conda-forge/linux-64/zlib")))
        #expect(!claims.allows("pull", on: try RepositoryName("conda-forge/linux-64/other")))
        #expect(issuer.issue(subject: "alice", scopes: scopes, now: now).token != issued.token)  // jti differs

        let body = try JSONSerialization.jsonObject(with: Data(issued.responseBody)) as! [String: Any]
        #expect(body["token"] as? String == issued.token && body["access_token"] as? String == issued.token)
        #expect(body["expires_in"] as? Int == 300)
        // Our body decodes with the client-side decoder.
        #expect(try TokenResponse.decode(issued.responseBody).token == issued.token)
    }

    @Test func expiry() throws {
        let issuer = try TokenIssuer(secret: secret, service: "s", lifetime: 60)
        let t = issuer.issue(subject: "", scopes: [], now: now).token
        #expect(throws: TokenError.expired(now.addingTimeInterval(60))) { try issuer.verify(t, now: now.addingTimeInterval(60)) }
        #expect(throws: TokenError.notYetValid) { try issuer.verify(t, now: now.addingTimeInterval(-10)) }
    }

    @Test func tampering() throws {
        let issuer = try TokenIssuer(secret: secret, service: "s")
        let t = issuer.issue(subject: "alice", scopes: [Scope(name: "a", actions: ["pull"])], now: now).token
        let parts = t.split(separator: ".").map(String.init)
        // Swap in a payload granting push, keeping the old signature.
        let forgedPayload = Base64URL.encode(
            Array(String(decoding: Base64URL.decode(Substring(parts[1]))!, as: UTF8.self).replacingAll("\"pull\"", with: "\"push\"").utf8))
        #expect(throws: TokenError.badSignature) { try issuer.verify(parts[0] + "." + forgedPayload + "." + parts[2], now: now) }
        // Flip one signature character.
        var sig = Array(parts[2])
        sig[5] = sig[5] == "A" ? "B" : "A"
        #expect(throws: TokenError.badSignature) { try issuer.verify(parts[0] + "." + parts[1] + "." + String(sig), now: now) }
        // alg=none style token without signature.
        #expect(throws: TokenError.self) { try issuer.verify(parts[0] + "." + parts[1] + ".", now: now) }
        #expect(throws: TokenError.self) { try issuer.verify("garbage", now: now) }
        // Another key or another service is refused.
        let other = try TokenIssuer(secret: Array(repeating: UInt8(7), count: 32), service: "s")
        #expect(throws: TokenError.badSignature) { try other.verify(t, now: now) }
        let otherService = try TokenIssuer(secret: secret, service: "t")
        #expect(throws: TokenError.wrongAudience("s")) { try otherService.verify(t, now: now) }
        #expect(throws: TokenError.secretTooShort(3)) { try TokenIssuer(secret: [1, 2, 3], service: "s") }
    }
}

@Suite struct ClientAuthTests {
    @Test func ghcrChallenge() throws {
        let cs = WWWAuthenticateChallenge.parse(#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull""#)
        #expect(cs.count == 1)
        let c = cs[0]
        #expect(c.isBearer && c.realm == "https://ghcr.io/token" && c.service == "ghcr.io")
        #expect(c.scopes == ["repository:user/image:pull"])
        #expect(
            c.tokenURL(scopes: ["repository:channel-mirrors/conda-forge/osx-arm64/xtensor:pull"])
                == "https://ghcr.io/token?service=ghcr.io&scope=repository%3Achannel-mirrors%2Fconda-forge%2Fosx-arm64%2Fxtensor%3Apull")
    }

    @Test func severalChallengesAndOddSpacing() {
        let cs = WWWAuthenticateChallenge.parse(
            #"Basic realm="Registry Realm", charset="UTF-8", BEARER realm = "https://a/token" , service=registry.local,error="invalid_token", Negotiate abc+/==, Digest realm="x\"y""#)
        #expect(cs.map(\.scheme) == ["basic", "bearer", "negotiate", "digest"])
        #expect(cs[0].realm == "Registry Realm" && cs[0].parameters["charset"] == "UTF-8")
        #expect(cs[1].realm == "https://a/token" && cs[1].service == "registry.local" && cs[1].parameters["error"] == "invalid_token")
        #expect(cs[2].token68 == "abc+/==")
        #expect(cs[3].realm == "x\"y")
        #expect(WWWAuthenticateChallenge.parse("").isEmpty)
        #expect(WWWAuthenticateChallenge.parse("Basic")[0] == WWWAuthenticateChallenge(scheme: "Basic"))
        #expect(WWWAuthenticateChallenge.parse(headers: ["Basic realm=x", "Bearer realm=y"]).map(\.realm) == ["x", "y"])
    }

    @Test func tokenResponses() throws {
        let ghcr = try TokenResponse.decode(Data(#"{"token":"djE6..."}"#.utf8))
        #expect(ghcr.token == "djE6..." && ghcr.expiresIn == 60 && ghcr.issuedAt == nil)
        let full = try TokenResponse.decode(
            Data(#"{"access_token":"at","expires_in":300,"issued_at":"2026-01-02T03:04:05Z","refresh_token":"r"}"#.utf8))
        #expect(full.token == "at" && full.expiresIn == 300)
        #expect(full.issuedAt == Date(timeIntervalSince1970: 1_767_323_045))
        let frac = try TokenResponse.decode(Data(#"{"token":"t","access_token":"","issued_at":"2026-01-02T03:04:05.123Z"}"#.utf8))
        #expect(frac.token == "t" && frac.issuedAt != nil)
        let received = Date(timeIntervalSince1970: 1_767_323_050)
        #expect(full.expiresAt(receivedAt: received) == Date(timeIntervalSince1970: 1_767_323_045 + 295))
        // A wildly skewed issued_at is ignored in favour of the receipt time.
        #expect(full.expiresAt(receivedAt: received.addingTimeInterval(10_000)) == received.addingTimeInterval(10_000 + 295))
        #expect(throws: TokenResponseError.noToken) { try TokenResponse.decode(Data(#"{"token":""}"#.utf8)) }
        #expect(throws: TokenResponseError.notJSON) { try TokenResponse.decode(Data("<html>".utf8)) }
        // Out-of-range lifetimes: huge ones are a day, negative ones the default, none traps.
        for huge in ["1e300", "18446744073709551615", "99999999999999999999999"] {
            let token = try TokenResponse.decode(Data(#"{"token":"t","expires_in":\#(huge)}"#.utf8))
            #expect(token.expiresIn == TokenResponse.maxLifetime)
            #expect(token.expiresAt(receivedAt: received) == received.addingTimeInterval(TokenResponse.maxLifetime - 5))
        }
        #expect(try TokenResponse.decode(Data(#"{"token":"t","expires_in":-5}"#.utf8)).expiresIn == TokenResponse.defaultLifetime)
        #expect(try TokenResponse.decode(Data(#"{"token":"t","expires_in":1.5}"#.utf8)).expiresIn == 1.5)
    }
}
