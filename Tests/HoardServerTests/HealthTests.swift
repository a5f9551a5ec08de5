import Foundation
import HoardServer
import HoardStore
import HummingbirdTesting
import Logging
import Testing

@Suite struct HealthTests {
    @Test func healthzAnswersGetAndHeadOverALiveSocket() async throws {
        let root = NSTemporaryDirectory() + "hoard-server-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try await Store.open(root: root)
        try await store.ingest(bytes: Array("twelve bytes".utf8))
        let server = HoardServer(settings: ServerSettings(port: 0), store: store, logger: Logger(label: "test"))

        try await server.withServices { try await $0.makeApplication().test(.live) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let status = try JSONDecoder().decode(Status.self, from: Data(buffer: response.body))
                #expect(status.status == "ok")
                #expect(status.blobs == 1 && status.bytes == 12)
                #expect(status.root == root)
                #expect(status.version == HoardVersion.string)
            }
            let get = try await client.execute(uri: "/healthz", method: .get) { $0 }
            try await client.execute(uri: "/healthz", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentLength] == get.headers[.contentLength])
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/healthz", method: .post) { response in
                #expect(response.status == .methodNotAllowed)
            }
            try await client.execute(uri: "/nothing/here", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains("conda-forge"))
            }
        } }
    }

    struct Status: Decodable {
        let status: String
        let version: String
        let root: String
        let blobs: Int
        let bytes: Int64
    }
}
