// A bucket that answers "500 InternalError" now and then (as S3 may, and as moto does to
// concurrent conditional PUTs of one key): the client sends the request again, signed anew.
import AsyncHTTPClient
import Foundation
import HoardS3
import NIOCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A misbehaving S3 endpoint: a small Python server that fails the first `failures` requests
/// with 500 and then answers every PUT 200 with an ETag, counting what it got.
private final class FlakyBucket {
    let process = Process()
    let port: Int
    let countFile: String
    private let directory: String

    init(failures: Int) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hoard-flaky-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        countFile = directory + "/count"
        let portFile = directory + "/port"
        let script = """
            import http.server, sys
            failures = int(sys.argv[1]); count_file = sys.argv[2]
            seen = [0]
            class H(http.server.BaseHTTPRequestHandler):
                def do_PUT(self):
                    self.rfile.read(int(self.headers.get('content-length', '0')))
                    seen[0] += 1
                    open(count_file, 'w').write(str(seen[0]))
                    if seen[0] <= failures:
                        body = b'<Error><Code>InternalError</Code><Message>try again</Message></Error>'
                        self.send_response(500)
                    else:
                        body = b''
                        self.send_response(200)
                        self.send_header('ETag', '"e%d"' % seen[0])
                    self.send_header('Content-Length', str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *a): pass
            s = http.server.HTTPServer(('127.0.0.1', 0), H)
            open(sys.argv[3], 'w').write(str(s.server_address[1]))
            s.serve_forever()
            """
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, String(failures), countFile, portFile]
        // Not the test's own output: a server still holding it would keep a reader of it waiting.
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var found: Int?
        for _ in 0..<100 {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let value = Int(text) { found = value; break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard let found else { process.terminate(); throw CancellationError() }
        port = found
    }

    var requests: Int { (try? String(contentsOfFile: countFile, encoding: .utf8)).flatMap { Int($0) } ?? 0 }

    /// SIGKILL: a child may inherit a blocked SIGTERM from the test's thread.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

struct S3RetryTests {
    private func client(_ bucket: FlakyBucket) throws -> S3Client {
        let location = try S3Location(bucket: "flaky", prefix: "p", endpoint: "http://127.0.0.1:\(bucket.port)", pathStyle: true)
        return S3Client(location: location, credentials: S3Credentials(accessKeyID: "k", secretAccessKey: "s"),
                        httpClient: .shared, logger: .init(label: "test"), timeout: .seconds(10))
    }

    @Test func aPutAnswered500IsSentAgain() async throws {
        let bucket = try FlakyBucket(failures: 2)
        defer { bucket.stop() }
        let etag = try await client(bucket).put("k", body: ByteBuffer(bytes: [1, 2, 3]), condition: .ifNoneMatchAny)
        #expect(etag == "\"e3\"")
        #expect(bucket.requests == 3)
    }

    @Test func aBucketThatKeepsFailingIsReportedUnavailable() async throws {
        let bucket = try FlakyBucket(failures: 100)
        defer { bucket.stop() }
        do {
            _ = try await client(bucket).put("k", body: ByteBuffer(bytes: [1]))
            Issue.record("a PUT answered 500 every time succeeded")
        } catch {
            guard let error = error as? S3Error, case .unavailable = error.storeError else {
                Issue.record("expected .unavailable, got \(error)")
                return
            }
        }
        #expect(bucket.requests == 3, "the first try and two more")
    }
}
