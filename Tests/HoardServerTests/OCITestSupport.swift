import Foundation
import HoardOCI
import HoardServer
import HoardStore
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore

/// A hoard store in a fresh temp directory with an OCI front in front of it, served live.
struct OCITestServer {
    /// `alice:secret`, bcrypt cost 5 (made with `htpasswd -nbB -C 5 alice secret`).
    static let htpasswdLine = "alice:$2y$05$YyXinomviwSV9VQ0ZZLTw.bmcOg7dlxPTdhaugo7zCLQoX./uRqDi\n"
    static let alice = "Basic " + Data("alice:secret".utf8).base64EncodedString()

    let root: String
    var settings = ServerSettings(port: 0)
    /// Blobs (and upload sessions) in memory instead of files under `root`; kept across `run`s.
    var memoryBlobs: MemoryBlobStore?

    init(withUsers: Bool = true, authReads: Bool = false, root: String? = nil) throws {
        self.root = root ?? NSTemporaryDirectory() + "hoard-oci-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: self.root, withIntermediateDirectories: true)
        if withUsers {
            let path = self.root + "/htpasswd"
            try Self.htpasswdLine.write(toFile: path, atomically: true, encoding: .utf8)
            settings.oci.htpasswdPath = path
        }
        settings.oci.authReads = authReads
    }

    /// Opens the store, serves it for the duration of `body`, then closes everything (the store
    /// lock included, so the same root can be served again).
    func run<T: Sendable>(_ body: @escaping @Sendable (any TestClientProtocol, Store) async throws -> T) async throws -> T {
        let store = try await Store.open(root: root + "/store", blobs: memoryBlobs)
        let server = HoardServer(settings: settings, store: store, logger: Logger(label: "test"))
        return try await server.withServices { try await $0.makeApplication().test(.live) { client in try await body(client, store) } }
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

extension TestClientProtocol {
    /// Sends a request with Alice's credentials unless told otherwise.
    @discardableResult
    func send(
        _ method: HTTPRequest.Method, _ uri: String, headers: HTTPFields = [:], body: [UInt8]? = nil, auth: String? = OCITestServer.alice
    ) async throws -> TestResponse {
        var headers = headers
        if let auth { headers[.authorization] = auth }
        return try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
    }

    /// POST + PUT upload of `bytes`; returns the sha256 digest.
    @discardableResult
    func pushBlob(_ repository: String, _ bytes: [UInt8]) async throws -> String {
        let digest = OCIDigest.compute(.sha256, of: bytes).description
        let start = try await send(.post, "/v2/\(repository)/blobs/uploads/")
        guard start.status == .accepted, let location = start.headers[.location] else { throw OCITestError("POST answered \(start.status)") }
        let put = try await send(.put, location + "?digest=" + digest, body: bytes)
        guard put.status == .created else { throw OCITestError("PUT answered \(put.status): \(String(buffer: put.body))") }
        return digest
    }

    /// PUT of a manifest; returns the response.
    @discardableResult
    func pushManifest(_ repository: String, _ reference: String, _ bytes: [UInt8], mediaType: String = OCIMediaType.imageManifest) async throws -> TestResponse {
        try await send(.put, "/v2/\(repository)/manifests/\(reference)", headers: [.contentType: mediaType], body: bytes)
    }
}

extension HTTPFields.Element.Name {
    static let link = Self("Link")!
}

struct OCITestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A small image manifest with one layer and the empty config.
func imageManifest(config: String, layers: [(String, Int)], subject: (String, Int)? = nil, artifactType: String? = nil) -> [UInt8] {
    var fields = [
        "\"schemaVersion\":2", "\"mediaType\":\"\(OCIMediaType.imageManifest)\"",
        "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"\(config)\",\"size\":2}",
    ]
    if let artifactType { fields.append("\"artifactType\":\"\(artifactType)\"") }
    let layerText = layers.map { "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"\($0.0)\",\"size\":\($0.1)}" }
    fields.append("\"layers\":[\(layerText.joined(separator: ","))]")
    if let subject {
        fields.append("\"subject\":{\"mediaType\":\"\(OCIMediaType.imageManifest)\",\"digest\":\"\(subject.0)\",\"size\":\(subject.1)}")
    }
    return Array("{\(fields.joined(separator: ","))}".utf8)
}

func errorCode(_ response: TestResponse) -> String? {
    struct Body: Decodable { struct E: Decodable { let code: String }; let errors: [E] }
    return (try? JSONDecoder().decode(Body.self, from: Data(buffer: response.body)))?.errors.first?.code
}

func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}
