import HoardStore
import Hummingbird

/// `GET /metrics`: every metric in Prometheus text format (version 0.0.4).
struct MetricsRoute: Sendable {
    let metrics: HoardMetrics
    let store: Store
    let uploads: UploadSessions?

    func respond() async -> Response {
        let text = await metrics.render(store: store, uploads: uploads)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
    }
}
