import Foundation
import HoardOCI
import HoardStore
import HoardUpstream
import Logging
import Testing

/// `RegistryClient` against a real registry (Debian's docker-registry), plain and behind
/// htpasswd: tag resolution, verified manifests, streamed blobs, the 401 → credentials → retry flow.
@Suite(.serialized, .enabled(if: DockerRegistry.available, "docker-registry (Debian package) is not installed"))
struct RegistryClientTests {
    let logger = Logger(label: "test")

    private func withRegistry(user: String? = nil, password: String? = nil, _ body: (DockerRegistry, HTTPUpstream) async throws -> Void) async throws {
        let registry = try await DockerRegistry(user: user, password: password)
        let http = HTTPUpstream(timeout: .seconds(10), logger: logger)
        do {
            try await body(registry, http)
        } catch {
            registry.stop()
            try await http.shutdown()
            throw error
        }
        registry.stop()
        try await http.shutdown()
    }

    private func readAll(_ response: UpstreamResponse) async throws -> [UInt8] {
        Array(buffer: try await response.collect(limit: 64 << 20))
    }

    @Test func resolvesTagsAndFetchesByDigest() async throws {
        try await withRegistry { registry, http in
            let layer = Array("hello from the registry\n".utf8)
            let manifestDigest = try await registry.pushArtifact(http, repository: "team/files", tag: "v1", layers: [layer])
            let client = RegistryClient(http: http, credentials: nil)
            let endpoint = try RegistryEndpoint(parsing: registry.baseURL)

            let resolved = try await client.resolve(endpoint, repository: "team/files", reference: "v1")
            #expect(resolved.digest == manifestDigest)
            #expect(resolved.mediaType == OCIMediaType.imageManifest)

            let manifest = try await client.manifest(endpoint, repository: "team/files", reference: manifestDigest.description)
            #expect(manifest.digest == manifestDigest)
            let blob = try await client.blob(endpoint, repository: "team/files", digest: BlobDigest.of(layer))
            #expect(try await readAll(blob) == layer)

            // Absent things are a 404, which callers treat as "not there".
            await #expect(throws: UpstreamError.self) {
                try await client.resolve(endpoint, repository: "team/files", reference: "nope")
            }
            do {
                _ = try await client.blob(endpoint, repository: "team/files", digest: BlobDigest.of(Array("other".utf8)))
                Issue.record("an absent blob was served")
            } catch {
                #expect((error as? UpstreamError)?.isNotFound == true)
            }
        }
    }

    @Test func namespaceIsPrefixedToRepositories() async throws {
        try await withRegistry { registry, http in
            let digest = try await registry.pushArtifact(http, repository: "mirrors/ch/noarch/pkg", tag: "1.0-0", layers: [[1, 2, 3]])
            let client = RegistryClient(http: http, credentials: nil)
            let endpoint = try RegistryEndpoint(parsing: "oci+http://127.0.0.1:\(registry.port)/mirrors/ch")
            #expect(endpoint.scheme == "http")
            #expect(try await client.resolve(endpoint, repository: "noarch/pkg", reference: "1.0-0").digest == digest)
        }
    }

    @Test func answersBasicChallengesWithConfiguredCredentials() async throws {
        try await withRegistry(user: "alice", password: "s3cret") { registry, http in
            let layer = Array(repeating: UInt8(7), count: 300_000)
            let manifestDigest = try await registry.pushArtifact(http, repository: "private/thing", tag: "latest", layers: [layer])
            let endpoint = try RegistryEndpoint(parsing: registry.baseURL)

            let credentials = try UpstreamCredentials(
                environment: [UpstreamCredentials.userVariable: "alice", UpstreamCredentials.passwordVariable: "s3cret"], dockerConfig: nil)
            let client = RegistryClient(http: http, credentials: credentials)
            #expect(try await client.resolve(endpoint, repository: "private/thing", reference: "latest").digest == manifestDigest)
            // The learned challenge is answered up front from now on.
            let blob = try await client.blob(endpoint, repository: "private/thing", digest: BlobDigest.of(layer))
            #expect(try await readAll(blob) == layer)

            let anonymous = RegistryClient(http: http, credentials: nil)
            do {
                _ = try await anonymous.resolve(endpoint, repository: "private/thing", reference: "latest")
                Issue.record("resolved without credentials")
            } catch {
                guard case .denied? = error as? UpstreamError else { Issue.record("expected .denied, got \(error)"); return }
                #expect("\(error)".contains(UpstreamCredentials.userVariable))
            }

            let wrong = try UpstreamCredentials(
                environment: [UpstreamCredentials.userVariable: "alice", UpstreamCredentials.passwordVariable: "wrong"], dockerConfig: nil)
            do {
                _ = try await RegistryClient(http: http, credentials: wrong).resolve(endpoint, repository: "private/thing", reference: "latest")
                Issue.record("resolved with a wrong password")
            } catch {
                guard case .denied? = error as? UpstreamError else { Issue.record("expected .denied, got \(error)"); return }
            }
        }
    }

    @Test func endpointsParseSchemesStrictly() throws {
        #expect(try RegistryEndpoint(parsing: "ghcr.io").baseURL == "https://ghcr.io")
        #expect(try RegistryEndpoint(parsing: "oci://ghcr.io/channel-mirrors/conda-forge").namespace == "channel-mirrors/conda-forge")
        #expect(try RegistryEndpoint(parsing: "http://127.0.0.1:5000").baseURL == "http://127.0.0.1:5000")
        #expect(try RegistryEndpoint(parsing: "https://ghcr.io/").repository("a/b") == "a/b")
        #expect(throws: RegistryEndpointError.self) { try RegistryEndpoint(parsing: "ftp://x") }
        #expect(throws: RegistryEndpointError.self) { try RegistryEndpoint(parsing: "https://user@host") }
    }
}
