import Foundation
import HoardStore
import HoardUpstream
import Logging
import NIOCore
import NIOHTTP1

/// A Debian `docker-registry` (CNCF distribution) on a free loopback port with a temp config,
/// optionally behind htpasswd (Basic) auth. Stopped by `stop()`.
final class DockerRegistry: @unchecked Sendable {
    static let binary = "/usr/bin/docker-registry"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    let directory: String
    let port: Int
    let credentials: (user: String, password: String)?
    private let process = Process()

    init(user: String? = nil, password: String? = nil) async throws {
        directory = NSTemporaryDirectory() + "hoard-registry-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        port = try Self.freePort()
        var config = """
            version: 0.1
            log: {level: warn}
            storage: {filesystem: {rootdirectory: \(directory)/data}, delete: {enabled: true}}
            http: {addr: 127.0.0.1:\(port)}

            """
        if let user, let password {
            credentials = (user, password)
            let htpasswd = Process()
            htpasswd.executableURL = URL(fileURLWithPath: "/usr/bin/htpasswd")
            htpasswd.arguments = ["-Bbn", user, password]
            let out = Pipe()
            htpasswd.standardOutput = out
            try htpasswd.run()
            let entry = out.fileHandleForReading.readDataToEndOfFile()
            htpasswd.waitUntilExit()
            FileManager.default.createFile(atPath: directory + "/htpasswd", contents: entry)
            config += "auth: {htpasswd: {realm: hoard-test, path: \(directory)/htpasswd}}\n"
        } else {
            credentials = nil
        }
        FileManager.default.createFile(atPath: directory + "/config.yml", contents: Data(config.utf8))
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", directory + "/config.yml"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        try await waitUntilListening()
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func waitUntilListening() async throws {
        let http = HTTPUpstream(timeout: .seconds(2), logger: Logger(label: "test"))
        for _ in 0..<100 {
            if let response = try? await http.send(UpstreamRequest(url: baseURL + "/v2/")) {
                _ = try? await response.collect(limit: 1 << 20)
                try await http.shutdown()
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await http.shutdown()
        throw RegistryTestError("docker-registry did not start on port \(port)")
    }

    /// Pushes a blob (monolithic upload) and returns its digest.
    @discardableResult
    func pushBlob(_ http: HTTPUpstream, repository: String, _ bytes: [UInt8]) async throws -> BlobDigest {
        let digest = BlobDigest.of(bytes)
        let start = try await http.send(UpstreamRequest(url: "\(baseURL)/v2/\(repository)/blobs/uploads/", method: .POST, headers: authHeaders))
        _ = try await start.collect(limit: 1 << 20)
        guard start.status == 202, var location = start.headers.first(name: "location") else {
            throw RegistryTestError("upload start answered \(start.status)")
        }
        if location.hasPrefix("/") { location = baseURL + location }
        location += (location.contains("?") ? "&" : "?") + "digest=\(digest)"
        var headers = authHeaders
        headers.add(name: "Content-Type", value: "application/octet-stream")
        let put = try await http.send(UpstreamRequest(url: location, method: .PUT, headers: headers, body: bytes))
        _ = try await put.collect(limit: 1 << 20)
        guard put.status == 201 else { throw RegistryTestError("blob PUT answered \(put.status)") }
        return digest
    }

    /// Pushes an OCI manifest for `layers` (empty config) under `tag`; returns the manifest digest.
    func pushArtifact(_ http: HTTPUpstream, repository: String, tag: String, layers: [[UInt8]]) async throws -> BlobDigest {
        let config = try await pushBlob(http, repository: repository, [])
        var descriptors: [String] = []
        for layer in layers {
            let digest = try await pushBlob(http, repository: repository, layer)
            descriptors.append(#"{"mediaType":"application/octet-stream","digest":"\#(digest)","size":\#(layer.count)}"#)
        }
        let manifest = Array("""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
            "config":{"mediaType":"application/vnd.unknown.config.v1+json","digest":"\(config)","size":0},\
            "layers":[\(descriptors.joined(separator: ","))]}
            """.utf8)
        var headers = authHeaders
        headers.add(name: "Content-Type", value: "application/vnd.oci.image.manifest.v1+json")
        let put = try await http.send(UpstreamRequest(url: "\(baseURL)/v2/\(repository)/manifests/\(tag)", method: .PUT, headers: headers, body: manifest))
        _ = try await put.collect(limit: 1 << 20)
        guard put.status == 201 else { throw RegistryTestError("manifest PUT answered \(put.status)") }
        return BlobDigest.of(manifest)
    }

    private var authHeaders: HTTPHeaders {
        guard let credentials else { return [:] }
        return ["Authorization": "Basic " + Data("\(credentials.user):\(credentials.password)".utf8).base64EncodedString()]
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw RegistryTestError("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct RegistryTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
