import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// A request to an upstream, with the validators of a copy hoard already has.
public struct UpstreamRequest: Sendable {
    public var url: String
    public var method: HTTPMethod
    public var headers: HTTPHeaders
    /// A small request body (token endpoints take a form); nil sends none.
    public var body: [UInt8]?
    /// A body streamed from the store (registry pushes); takes precedence over `body`.
    public var upload: UploadBody?

    public init(url: String, method: HTTPMethod = .GET, headers: HTTPHeaders = [:], body: [UInt8]? = nil, upload: UploadBody? = nil) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.upload = upload
    }

    /// Adds `If-None-Match` / `If-Modified-Since` for a conditional request.
    public mutating func addValidators(etag: String?, lastModified: String?) {
        if let etag { headers.replaceOrAdd(name: "If-None-Match", value: etag) }
        if let lastModified { headers.replaceOrAdd(name: "If-Modified-Since", value: lastModified) }
    }
}

/// An upstream's answer: status and headers now, the body as it streams.
public struct UpstreamResponse: Sendable {
    public let url: String
    public let status: Int
    public let headers: HTTPHeaders
    /// The body; the request's fetch slot is held until it has been read or dropped.
    public let body: UpstreamBody

    /// The announced length; a value that is no length (negative, not a number, past Int64) is
    /// ignored, and the body's own end decides.
    public var contentLength: Int64? {
        headers.first(name: "content-length").flatMap { Int64($0) }.flatMap { $0 >= 0 ? $0 : nil }
    }
    public var contentType: String? { headers.first(name: "content-type") }
    public var etag: String? { headers.first(name: "etag") }
    public var lastModified: String? { headers.first(name: "last-modified") }
    public var cacheControl: String? { headers.first(name: "cache-control") }

    /// Collects a small body whole, refusing more than `limit` bytes.
    public func collect(limit: Int64) async throws(UpstreamError) -> ByteBuffer {
        var buffer = ByteBuffer()
        do {
            for try await chunk in body {
                if Int64(buffer.readableBytes + chunk.readableBytes) > limit { throw UpstreamError.tooLarge(url: url, limit: limit) }
                var chunk = chunk
                buffer.writeBuffer(&chunk)
            }
        } catch let error as UpstreamError {
            throw error
        } catch {
            throw HTTPUpstream.classify(error, url: url, timeout: .zero)
        }
        if let expected = contentLength, expected != Int64(buffer.readableBytes) {
            throw .truncated(url: url, expected: expected, received: Int64(buffer.readableBytes))
        }
        return buffer
    }
}

/// An upstream response body as it streams. Holds the request's fetch slot: the slot is given
/// back when the body has been read to its end or nothing refers to it any more.
public struct UpstreamBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let base: HTTPClientResponse.Body
    let permit: FetchPermit?
    var observer: (any UpstreamObserver)? = nil

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: HTTPClientResponse.Body.AsyncIterator
        let permit: FetchPermit?
        let observer: (any UpstreamObserver)?

        public mutating func next() async throws -> ByteBuffer? {
            let chunk = try await base.next()
            if chunk == nil { permit?.release() }
            if let chunk { observer?.upstreamReceived(bytes: chunk.readableBytes) }
            return chunk
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), permit: permit, observer: observer)
    }
}

/// Talks HTTP to upstreams through one AsyncHTTPClient with bounded waits: `timeout` limits
/// both the wait for the response head and any stall while the body streams (a read timeout),
/// never a whole transfer, so a large package can take as long as it needs while it moves.
///
/// At most `maxConcurrent` requests are in flight (head and body); more wait in line, and a
/// wait longer than `timeout` fails like an upstream that does not answer.
public final class HTTPUpstream: Sendable {
    public let timeout: Duration
    public var maxConcurrent: Int { slots.count }
    private let client: HTTPClient
    private let slots: FetchSlots
    private let logger: Logger
    /// Metrics of upstream traffic (latency, errors, bytes); nil: none kept.
    public let observer: (any UpstreamObserver)?

    public init(timeout: Duration = .seconds(30), maxConcurrent: Int = 32, logger: Logger, observer: (any UpstreamObserver)? = nil) {
        self.timeout = timeout
        self.logger = logger
        self.observer = observer
        slots = FetchSlots(count: maxConcurrent)
        let amount = Self.timeAmount(timeout)
        // AsyncHTTPClient retries a refused connection until the connect timeout: keep that
        // short, so that a down upstream turns into stale-if-error or a 502 within seconds.
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 5, allowCycles: false),
            timeout: .init(connect: min(amount, .seconds(5)), read: amount)
        )
        configuration.httpVersion = .automatic
        configuration.decompression = .disabled
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// A configured duration as NIO's nanoseconds, saturating: a timeout of a thousand years
    /// (from a config file) means "no timeout to speak of", not an overflow trap.
    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        let (nanos, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return .nanoseconds(seconds < 0 ? 0 : .max) }
        let (total, overflow2) = nanos.addingReportingOverflow(attoseconds / 1_000_000_000)
        return .nanoseconds(overflow2 ? .max : max(total, 0))
    }

    /// A measured duration in nanoseconds, saturating.
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (nanos, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : nanos.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// Sends a request and returns once the response head is in.
    public func send(_ request: UpstreamRequest) async throws(UpstreamError) -> UpstreamResponse {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = request.method
        outgoing.headers = request.headers
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        if let upload = request.upload { outgoing.body = upload.makeClientBody() }
        if !outgoing.headers.contains(name: "user-agent") {
            outgoing.headers.add(name: "User-Agent", value: "hoard")
        }
        let permit: FetchPermit
        do {
            permit = try await slots.acquire(timeout: timeout)
        } catch is FetchSlots.WaitTimedOut {
            observer?.upstreamFailed(.busy(url: request.url, limit: slots.count, waited: timeout))
            throw .busy(url: request.url, limit: slots.count, waited: timeout)
        } catch {
            throw .transfer(url: request.url, reason: "cancelled while waiting for a free upstream request slot")
        }
        do {
            // The deadline only bounds the whole exchange generously; stalls are caught by the
            // read timeout configured above.
            let started = ContinuousClock.now
            let response = try await client.execute(outgoing, timeout: .hours(24), logger: logger)
            let took = Self.nanoseconds(ContinuousClock.now - started)
            observer?.upstreamAnswered(nanoseconds: took, status: Int(response.status.code))
            RequestNotes.current?.addUpstream(nanoseconds: took)
            return UpstreamResponse(
                url: request.url, status: Int(response.status.code), headers: response.headers,
                body: UpstreamBody(base: response.body, permit: permit, observer: observer))
        } catch {
            permit.release()
            let classified = Self.classify(error, url: request.url, timeout: timeout)
            observer?.upstreamFailed(classified)
            throw classified
        }
    }

    public static func classify(_ error: any Error, url: String, timeout: Duration) -> UpstreamError {
        if let error = error as? UpstreamError { return error }
        if let error = error as? HTTPClientError {
            if error == .readTimeout || error == .connectTimeout || error == .deadlineExceeded {
                return .timedOut(url: url, after: timeout)
            }
            if error == .remoteConnectionClosed {
                return .transfer(url: url, reason: "the connection was closed")
            }
            if error == .invalidURL || error == .emptyHost || error == .emptyScheme {
                return .unreachable(url: url, reason: "invalid URL")
            }
        }
        if error is NIOConnectionError || error is ChannelError {
            return .unreachable(url: url, reason: "\(error)")
        }
        let text = "\(error)"
        if text.contains("connectionRefused") || text.contains("Connection refused") {
            return .unreachable(url: url, reason: "connection refused")
        }
        return .transfer(url: url, reason: text)
    }
}
