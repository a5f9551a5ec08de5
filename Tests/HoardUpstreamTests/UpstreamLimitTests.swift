import Foundation
import HoardOCI
import HoardStore
import HoardUpstream
import Logging
import Testing

/// The bound on upstream requests in flight and the credential helper deadline, against a real
/// registry (Debian's docker-registry) and real helper scripts.
@Suite(.serialized, .enabled(if: DockerRegistry.available, "docker-registry (Debian package) is not installed"))
struct UpstreamLimitTests {
    let logger = Logger(label: "test")

    @Test func requestsBeyondTheBoundWaitTheirTurn() async throws {
        let registry = try await DockerRegistry()
        let http = HTTPUpstream(timeout: .seconds(2), maxConcurrent: 1, logger: logger)
        defer { registry.stop() }
        do {
            // Small enough to arrive whole at once: the held response is complete, so the read
            // timeout does not end it while the second request waits.
            let layer = Array(repeating: UInt8(9), count: 100)
            let digest = try await registry.pushBlob(http, repository: "team/limits", layer)
            let url = registry.baseURL + "/v2/team/limits/blobs/\(digest)"
            // The one slot is held while this body is unread: the next request waits, and past
            // the upstream timeout it fails with an error naming the limit.
            var held: UpstreamResponse? = try await http.send(UpstreamRequest(url: url))
            #expect(held?.status == 200)
            do {
                _ = try await http.send(UpstreamRequest(url: registry.baseURL + "/v2/"))
                Issue.record("a second request ran beside the first with max_concurrent 1")
            } catch {
                #expect(error.isTimeout)
                #expect("\(error)".contains("upstream request slots"))
            }
            // A waiter gets the slot as soon as the body before it has been read.
            let waiter = Task { try await http.send(UpstreamRequest(url: registry.baseURL + "/v2/")).status }
            #expect(Array(buffer: try await held!.collect(limit: 1 << 20)) == layer)
            held = nil
            #expect(try await waiter.value == 200)
            // A response dropped unread gives its slot back too.
            _ = try await http.send(UpstreamRequest(url: url))
            #expect(try await http.send(UpstreamRequest(url: registry.baseURL + "/v2/")).status == 200)
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    @Test func concurrentPullsStartTheCredentialHelperOnce() async throws {
        let registry = try await DockerRegistry(user: "alice", password: "s3cret")
        let http = HTTPUpstream(timeout: .seconds(10), logger: logger)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hoard-once-\(UUID().uuidString)").path
        defer {
            registry.stop()
            try? FileManager.default.removeItem(atPath: dir)
        }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            // Each run leaves a line in `runs`; a helper takes a while (a keychain, a daemon).
            let script = "#!/bin/sh\nread -r server\necho run >> '\(dir)/runs'\nsleep 1\n"
                + "printf '{\"Username\":\"alice\",\"Secret\":\"s3cret\"}\\n'\n"
            try script.write(toFile: dir + "/docker-credential-counted", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir + "/docker-credential-counted")
            let config = #"{"credHelpers":{"127.0.0.1:\#(registry.port)":"counted"}}"#
            let docker = try DockerConfigCredentials(
                data: Data(config.utf8), runner: ProcessCredentialHelperRunner(searchPath: [dir], timeout: .seconds(10)))
            let client = RegistryClient(http: http, credentials: try UpstreamCredentials(environment: [:], dockerConfig: docker))
            let endpoint = try RegistryEndpoint(parsing: registry.baseURL)
            let layer = Array(repeating: UInt8(7), count: 64)
            let digest = try await registry.pushBlob(http, repository: "private/thing", layer)
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        let response = try await client.blob(endpoint, repository: "private/thing", digest: digest)
                        return try await response.collect(limit: 1 << 20).readableBytes
                    }
                }
                for try await count in group { #expect(count == layer.count) }
            }
            let runs = try String(contentsOfFile: dir + "/runs", encoding: .utf8).split(separator: "\n").count
            #expect(runs == 1, "the helper ran \(runs) times for one registry")
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    @Test func aCredentialHelperThatHangsIsKilledAndNamed() async throws {
        let registry = try await DockerRegistry(user: "alice", password: "s3cret")
        let http = HTTPUpstream(timeout: .seconds(10), logger: logger)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hoard-slow-\(UUID().uuidString)").path
        defer {
            registry.stop()
            try? FileManager.default.removeItem(atPath: dir)
        }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            // A helper that never answers (a locked keychain prompt, a hung daemon).
            let script = "#!/bin/sh\nread -r server\nsleep 20\nprintf '{\"Username\":\"alice\",\"Secret\":\"s3cret\"}\\n'\n"
            try script.write(toFile: dir + "/docker-credential-slow", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir + "/docker-credential-slow")
            let config = #"{"credHelpers":{"127.0.0.1:\#(registry.port)":"slow"}}"#
            let docker = try DockerConfigCredentials(
                data: Data(config.utf8), runner: ProcessCredentialHelperRunner(searchPath: [dir], timeout: .seconds(1)))
            let client = RegistryClient(http: http, credentials: try UpstreamCredentials(environment: [:], dockerConfig: docker))
            let endpoint = try RegistryEndpoint(parsing: registry.baseURL)
            do {
                _ = try await client.resolve(endpoint, repository: "private/thing", reference: "latest")
                Issue.record("resolved although the credential helper hangs")
            } catch {
                #expect("\(error)".contains("docker-credential-slow did not answer within"))
            }
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }
}
