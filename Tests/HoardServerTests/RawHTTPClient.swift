import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 response as it came off the wire.
struct RawResponse: Equatable, CustomStringConvertible {
    let status: Int
    /// Lower-cased names, in order received.
    let headers: [(name: String, value: String)]
    let body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.name == name.lowercased() }?.value }

    /// Headers without Date (it moves with the clock), sorted: what two answers must share.
    var comparableHeaders: [String] {
        headers.filter { $0.name != "date" }.map { "\($0.name): \($0.value)" }.sorted()
    }

    static func == (a: RawResponse, b: RawResponse) -> Bool {
        a.status == b.status && a.comparableHeaders == b.comparableHeaders && a.body == b.body
    }

    var description: String { "\(status) \(comparableHeaders) \(body.count) bytes" }
}

/// A raw HTTP/1.1 connection: sends bytes as given (several requests at once: pipelining) and
/// parses the responses. Blocking socket calls run on NIO's thread pool, never the cooperative pool.
final class RawHTTPConnection: @unchecked Sendable {
    private let fd: Int32
    private var pending: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw RawHTTPError("connect failed") }
    }

    deinit { close(fd) }

    /// Sends `requests` in one write, then reads one response per request (`isHead` says which
    /// have no body).
    func exchange(_ requests: [(text: String, isHead: Bool)]) async throws -> [RawResponse] {
        try await NIOThreadPool.singleton.runIfActive { [self] in
            let bytes = Array(requests.map(\.text).joined().utf8)
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw RawHTTPError("send failed") }
                sent += n
            }
            return try requests.map { try readResponse(isHead: $0.isHead) }
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw RawHTTPError("connection closed or timed out with \(pending.count) bytes pending") }
        pending += chunk[..<n]
    }

    private func readResponse(isHead: Bool) throws -> RawResponse {
        let separator: [UInt8] = [13, 10, 13, 10]
        var end: Int?
        while end == nil {
            if pending.count >= 4 {
                end = (0...(pending.count - 4)).first { Array(pending[$0..<($0 + 4)]) == separator }
            }
            if end == nil { try fill() }
        }
        let headText = String(decoding: pending[..<end!], as: UTF8.self)
        pending.removeFirst(end! + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw RawHTTPError("bad status line") }
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var body: [UInt8] = []
        let length = headers.first { $0.name == "content-length" }.flatMap { Int($0.value) } ?? 0
        if !isHead && status != 304 && status != 204 {
            if headers.contains(where: { $0.name == "transfer-encoding" }) {
                body = try readChunked()
            } else {
                while pending.count < length { try fill() }
                body = Array(pending[..<length])
                pending.removeFirst(length)
            }
        }
        return RawResponse(status: status, headers: headers, body: body)
    }

    private func readChunked() throws -> [UInt8] {
        var body: [UInt8] = []
        while true {
            var lineEnd: Int?
            while lineEnd == nil {
                if pending.count >= 2 { lineEnd = (0...(pending.count - 2)).first { pending[$0] == 13 && pending[$0 + 1] == 10 } }
                if lineEnd == nil { try fill() }
            }
            let size = Int(String(decoding: pending[..<lineEnd!], as: UTF8.self).split(separator: ";")[0], radix: 16) ?? 0
            pending.removeFirst(lineEnd! + 2)
            while pending.count < size + 2 { try fill() }
            body += pending[..<size]
            pending.removeFirst(size + 2)
            if size == 0 { return body }
        }
    }
}

struct RawHTTPError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
