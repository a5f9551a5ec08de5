import Foundation
import HoardStore
import Logging
import Testing

@testable import HoardUpstream

/// `RegistryClient.repositories`: the catalog walk sync uses to know which repositories are new.
@Suite(.serialized, .enabled(if: DockerRegistry.available, "docker-registry (Debian package) is not installed"))
struct RegistryCatalogTests {
    @Test func listsOnlyTheRepositoriesBelowTheNamespace() async throws {
        let registry = try await DockerRegistry()
        let http = HTTPUpstream(timeout: .seconds(10), logger: Logger(label: "test"))
        do {
            for repository in ["mirrors/ch/noarch/a", "mirrors/ch/noarch/b/c", "mirrors/chx/d", "mirrors-x/e", "mirrors0/f", "a/g"] {
                _ = try await registry.pushBlob(http, repository: repository, [1, 2, 3])
            }
            let client = RegistryClient(http: http, credentials: nil)
            let scoped = try RegistryEndpoint(parsing: "http://127.0.0.1:\(registry.port)/mirrors/ch")
            #expect(await client.repositories(scoped) == ["noarch/a", "noarch/b/c"])
            let fresh = try RegistryEndpoint(parsing: "http://127.0.0.1:\(registry.port)/nothing/here")
            #expect(await client.repositories(fresh) == [])
            let whole = try RegistryEndpoint(parsing: "http://127.0.0.1:\(registry.port)")
            #expect(await client.repositories(whole)?.count == 6)
        } catch {
            registry.stop()
            try await http.shutdown()
            throw error
        }
        registry.stop()
        try await http.shutdown()
    }

    @Test func aRegistryWithoutACatalogIsNil() async throws {
        let http = HTTPUpstream(timeout: .seconds(2), logger: Logger(label: "test"))
        let client = RegistryClient(http: http, credentials: nil)
        // Nothing listens on port 9: no catalog to read, so every repository must be asked about.
        #expect(await client.repositories(try RegistryEndpoint(parsing: "http://127.0.0.1:9/ns")) == nil)
        try await http.shutdown()
    }

    @Test func nextLinksAreParsed() {
        #expect(RegistryClient.nextLink("</v2/_catalog?last=a%2Fb&n=2>; rel=\"next\"") == "/v2/_catalog?last=a%2Fb&n=2")
        #expect(RegistryClient.nextLink("<https://r.example/v2/_catalog?n=1>; rel=next") == "https://r.example/v2/_catalog?n=1")
        #expect(RegistryClient.nextLink("<https://r.example/x>; rel=\"prev\"") == nil)
        #expect(RegistryClient.nextLink(nil) == nil)
        #expect(RegistryClient.nextLink("garbage") == nil)
    }
}
