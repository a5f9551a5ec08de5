import Foundation
import HoardStore
import Hummingbird

/// `GET /healthz`: 200 with a small JSON status when the store answers.
struct HealthRoute {
    let store: Store

    struct Status: Encodable {
        let status: String
        let version: String
        let root: String
        let blobs: Int
        let bytes: Int64
    }

    func respond() async throws -> Response {
        let (count, bytes) = try await store.totals()
        let status = Status(status: "ok", version: HoardVersion.string, root: store.layout.root, blobs: count, bytes: bytes)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var body = try encoder.encode(status)
        body.append(0x0a)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}
