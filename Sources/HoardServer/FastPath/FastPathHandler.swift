import HTTPTypes
import HoardStore
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Answers hot cached GET and HEAD requests on the event loop, ahead of Hummingbird: no Swift task
/// per request, documents from memory, blobs with sendfile (`FileRegion`) where no TLS sits in
/// between. Everything else (misses, expired documents, credentials, other methods, queries,
/// `Connection: close`, 416, a blob gone from the store, a blob under TLS) is passed on
/// untouched. One per connection; sits after HTTP decoding (sees `HTTPRequestPart`s).
///
/// Order: HTTP/1 answers must leave in request order, so while any request passed on is still
/// unanswered by Hummingbird, later requests are passed on too.
///
/// On a shared store a blob entry carries the route's check (does the name still point at the
/// blob?): it is asked before the answer goes out, later requests wait behind it, and when it
/// says no the request goes to Hummingbird after all.
final class FastPathHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    struct Shared: Sendable {
        let table: HotTable
        let dates: FastDate
        let serverName: String
        /// False under TLS: a file region cannot pass through the TLS handler.
        let sendfile: Bool
        /// Metrics and the access log (atomic counters: no lock on this path).
        var log: RequestLog? = nil
    }

    fileprivate enum Body {
        case none
        case bytes(ByteBuffer)
        /// `reader` is kept until the bytes are written: while it lives, the store does not evict the blob.
        case file(NIOFileHandle, start: Int64, end: Int64, reader: any BlobReader)
    }

    private enum Reading {
        case idle
        /// The current request goes to Hummingbird, every part of it.
        case passing
        /// The current request is answered here once its end arrives; its parts stop here.
        case answering(HTTPResponse, Body)
        /// As `answering`, once `check` (begun at the head) says the blob is still named.
        case confirming(HTTPRequest, HTTPResponse, Body, check: EventLoopFuture<Bool>)
    }

    /// A request waiting for its check, with everything that arrived after it (replayed in order).
    private struct Waiting {
        let serial: UInt64
        var held: [HTTPRequestPart] = []
    }

    private let shared: Shared
    private var reading = Reading.idle
    /// Requests passed on whose response has not ended yet.
    private var withHummingbird = 0
    /// The HTTP/1 codec's context: a file region is written below it (it only carries ByteBuffers).
    private var codec: ChannelHandlerContext?
    private var needsFlush = false
    /// A read held back while the channel is not writable (pipelined answers queue up).
    private var readHeld = false
    /// The request being answered here, for the access log (method, raw path, when its head came).
    private var answeringRequest: (method: String, path: String, started: Double)?
    /// Set while a request's check is outstanding: inbound parts queue here, reads stop.
    private var waiting: Waiting?
    /// Tells a check's answer from one that belongs to a request already gone (connection closed).
    private var checks: UInt64 = 0

    init(_ shared: Shared) {
        self.shared = shared
    }

    func handlerAdded(context: ChannelHandlerContext) {
        codec = try? context.pipeline.syncOperations.context(handlerType: HTTP1ToHTTPServerCodec.self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        forget()
        codec = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if waiting != nil {
            waiting?.held.append(part)
            return
        }
        receive(part, context: context)
    }

    private func receive(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let request):
            if withHummingbird == 0, let (head, body, recheck) = answer(request) {
                if let recheck {
                    let promise = context.eventLoop.makePromise(of: Bool.self)
                    promise.completeWithTask { await recheck() }
                    reading = .confirming(request, head, body, check: promise.futureResult)
                } else {
                    reading = .answering(head, body)
                }
                if shared.log != nil { answeringRequest = (request.method.rawValue, request.path ?? "", FastDate.now()) }
            } else {
                pass(request, context: context)
            }
        case .body:
            if case .passing = reading { context.fireChannelRead(wrapInboundOut(part)) }
        case .end:
            switch reading {
            case .passing:
                context.fireChannelRead(wrapInboundOut(part))
            case .answering(let head, let body):
                answered(head, body, context: context)
            case .confirming(let request, let head, let body, let check):
                confirm(check, request: request, head: head, body: body, context: context)
                return
            case .idle:
                break
            }
            reading = .idle
        }
    }

    private func pass(_ request: HTTPRequest, context: ChannelHandlerContext) {
        reading = .passing
        withHummingbird += 1
        context.fireChannelRead(wrapInboundOut(.head(request)))
    }

    private func answered(_ head: HTTPResponse, _ body: Body, context: ChannelHandlerContext) {
        shared.table.countHit()
        send(head, body, context: context)
        if let log = shared.log, let (method, path, started) = answeringRequest { log.fastAnswered(method, path, head, body, since: started) }
        answeringRequest = nil
    }

    /// Holds everything after this request until its check answers; then answers it here or
    /// passes it on, and replays what was held.
    private func confirm(
        _ check: EventLoopFuture<Bool>, request: HTTPRequest, head: HTTPResponse, body: Body, context: ChannelHandlerContext
    ) {
        checks &+= 1
        let serial = checks
        waiting = Waiting(serial: serial)
        check.assumeIsolated().whenComplete { result in
            guard let waiting = self.waiting, waiting.serial == serial else { return }
            self.waiting = nil
            self.reading = .idle
            if case .success(true) = result {
                self.answered(head, body, context: context)
            } else {
                // Gone, or the check failed: the slow path decides (and says why).
                if case .file(let handle, _, _, _) = body { try? handle.close() }
                if let path = request.path { self.shared.table.remove(path) }
                self.answeringRequest = nil
                self.pass(request, context: context)
                context.fireChannelRead(self.wrapInboundOut(.end(nil)))
                self.reading = .idle
            }
            for (index, part) in waiting.held.enumerated() {
                if self.waiting != nil {
                    self.waiting?.held.append(contentsOf: waiting.held[index...])
                    break
                }
                self.receive(part, context: context)
            }
            context.fireChannelReadComplete()
            self.flushIfNeeded(context: context)
            if self.waiting == nil, self.readHeld, context.channel.isWritable {
                self.readHeld = false
                context.read()
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded(context: context)
        context.fireChannelReadComplete()
    }

    private func flushIfNeeded(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        forget()
        context.fireChannelInactive()
    }

    /// Drops the request in hand (its file handle closed) and any check's answer to come.
    private func forget() {
        switch reading {
        case .answering(_, .file(let handle, _, _, _)), .confirming(_, _, .file(let handle, _, _, _), _): try? handle.close()
        default: break
        }
        reading = .idle
        waiting = nil
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), withHummingbird > 0 { withHummingbird -= 1 }
        context.write(data, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        // Backpressure for pipelined hits: stop reading while answers wait to be written, or
        // while a check is outstanding (what arrives meanwhile is held in memory).
        if !context.channel.isWritable || waiting != nil {
            readHeld = true
            return
        }
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, readHeld, waiting == nil {
            readHeld = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Deciding

    /// The answer to `request` when the hot table has one, with the check to ask first if any;
    /// nil: pass it on. `ResponsePlan` decides, as it does for the slow path; Date and Server
    /// are added as Hummingbird adds them.
    private func answer(_ request: HTTPRequest) -> (HTTPResponse, Body, (@Sendable () async -> Bool)?)? {
        guard request.method == .get || request.method == .head, let path = request.path, path.hasPrefix("/"),
            !path.contains("?")
        else { return nil }
        let fields = request.headerFields
        // Credentials are checked by the slow path every time; so are `Expect` and closing.
        if fields[.authorization] != nil || fields[.expect] != nil { return nil }
        if let connection = fields[.connection], connection.lowercased().contains("close") { return nil }
        let now = FastDate.now()
        guard let entry = shared.table.lookup(path, now: now) else { return nil }
        // A request with a body cannot be held whole for a check to pass on afterwards.
        if entry.recheck != nil, fields[.contentLength].map({ $0 != "0" }) ?? (fields[.transferEncoding] != nil) { return nil }
        let plan = ResponsePlan(method: request.method, headers: fields, representation: entry.representation)
        var headers = plan.headers
        // Hummingbird's rule for a response without a length: its body's (none: 0).
        if headers[.contentLength] == nil { headers[.contentLength] = "0" }
        headers[.date] = shared.dates.header(at: now)
        headers[.server] = shared.serverName
        let head = HTTPResponse(status: plan.status, headerFields: headers)
        let body: Body
        switch (plan.body, entry.body) {
        case (.none, .memory), (.message, .memory):
            body = plan.body.bytes
        case (.representation(let range), .memory(let buffer)):
            guard let slice = buffer.getSlice(at: buffer.readerIndex + Int(range.lowerBound), length: Int(range.count)) else { return nil }
            body = .bytes(slice)
        case (.none, .blob(let reader)), (.message, .blob(let reader)):
            // No bytes of the blob go out, but the answer holds only while the store has it.
            guard FastBlobSource.isCurrent(reader) else { return dropped(reader.digest) }
            shared.table.noteAccess(reader.digest, at: now)
            body = plan.body.bytes
        case (.representation(let range), .blob(let reader)):
            // Under TLS a file region cannot pass the TLS handler: Hummingbird streams the blob.
            guard shared.sendfile, codec != nil else { return nil }
            guard let handle = FastBlobSource.handle(reader) else { return dropped(reader.digest) }
            shared.table.noteAccess(reader.digest, at: now)
            body = .file(handle, start: range.lowerBound, end: range.upperBound, reader: reader)
        }
        return (head, body, entry.recheck)
    }

    /// The blob is gone (evicted, removed) or has no local file: forget it, let the slow path answer.
    private func dropped(_ digest: BlobDigest) -> (HTTPResponse, Body, (@Sendable () async -> Bool)?)? {
        shared.table.remove(blob: digest)
        return nil
    }

    // MARK: Answering

    private func send(_ head: HTTPResponse, _ body: Body, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        switch body {
        case .none:
            break
        case .bytes(let buffer):
            context.write(wrapOutboundOut(.body(buffer)), promise: nil)
        case .file(let handle, let start, let end, let reader):
            guard let codec, let from = Int(exactly: start), let to = Int(exactly: end) else {
                try? handle.close()
                context.close(promise: nil)
                return
            }
            let region = FileRegion(fileHandle: handle, readerIndex: from, endIndex: to)
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { _ in
                try? handle.close()
                withExtendedLifetime(reader) {}
            }
            codec.write(NIOAny(HTTPServerResponsePart.body(.fileRegion(region))), promise: written)
        }
        context.write(wrapOutboundOut(.end(nil)), promise: nil)
        needsFlush = true
    }
}

extension RequestLog {
    /// A fast-path answer, counted and logged as Hummingbird's are (a hit, no upstream).
    fileprivate func fastAnswered(_ method: String, _ path: String, _ head: HTTPResponse, _ body: FastPathHandler.Body, since started: Double) {
        let bytes: Int
        switch body {
        case .none: bytes = 0
        case .bytes(let buffer): bytes = buffer.readableBytes
        case .file(_, let start, let end, _): bytes = Int(clamping: max(0, end - start))
        }
        let seconds = logs ? max(0, FastDate.now() - started) : 0
        finished(method: method, path: path, status: head.status.code, bytes: bytes, seconds: seconds, outcome: .hit, upstreamSeconds: nil, fastPath: true)
    }
}

extension ResponsePlan.Body {
    /// The body of an answer that sends none of the representation's bytes.
    fileprivate var bytes: FastPathHandler.Body {
        if case .message(let message) = self { return .bytes(ByteBuffer(bytes: message)) }
        return .none
    }
}
