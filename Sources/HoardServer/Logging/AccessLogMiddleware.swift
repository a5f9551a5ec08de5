import HoardUpstream
import Hummingbird
import NIOCore
import Synchronization

/// The outermost middleware: binds a `RequestNotes` for the request (fronts note hit or miss,
/// upstream time), and once the response body has gone out (or failed) hands status, bytes and
/// duration to the `RequestLog`.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = HoardRequestContext
    let log: RequestLog

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let notes = RequestNotes()
        let method = request.method.rawValue
        // A conda token prefix was taken off before routing (TokenPrefix.swift): log that one was
        // sent, as the client sent the path, without the token.
        let path = context.channelToken == nil ? request.uri.path : "/t/<redacted>" + request.uri.path
        let log = self.log
        @Sendable func finish(status: Int, bytes: Int) {
            log.finished(
                method: method, path: path, status: status, bytes: bytes, seconds: Self.seconds(ContinuousClock.now - started),
                outcome: notes.cacheOutcome, upstreamSeconds: notes.upstreamSeconds, fastPath: false)
        }
        var response: Response
        do {
            response = try await RequestNotes.$current.withValue(notes) { try await next(request, context) }
        } catch {
            finish(status: Int((error as? any HTTPResponseError)?.status.code ?? 500), bytes: 0)
            throw error
        }
        let body = response.body
        let status = Int(response.status.code)
        let counted = ByteTally()
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            do {
                try await body.write(writer.map { buffer in
                    counted.add(buffer.readableBytes)
                    return buffer
                })
            } catch {
                finish(status: status, bytes: counted.total)
                throw error
            }
            finish(status: status, bytes: counted.total)
        }
        return response
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// Bytes written so far (the body writer may run on any thread).
final class ByteTally: Sendable {
    private let bytes = Atomic<Int>(0)
    func add(_ count: Int) { bytes.add(count, ordering: .relaxed) }
    var total: Int { bytes.load(ordering: .relaxed) }
}
