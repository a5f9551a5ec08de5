import Foundation

/// What a docker credential helper returns for `get`.
public struct CredentialHelperOutput: Hashable, Sendable {
    public var username: String
    public var secret: String
}

/// Runs `docker-credential-<helper> get`. A protocol so the server can swap in a runner with
/// caching or a timeout; tests use the real process runner with a helper script in a temp dir.
public protocol CredentialHelperRunner: Sendable {
    /// Returns nil when the helper has no credentials for `serverURL`.
    func get(helper: String, serverURL: String) throws(RegistryCredentialsError) -> CredentialHelperOutput?
}

/// Runs the helper as a child process: server URL on stdin, JSON on stdout (docker's protocol).
/// Blocking for at most `timeout`: call it off the cooperative pool (hoard uses
/// `NIOThreadPool.singleton`) and cache the result. A helper still running at the deadline is
/// killed and named in the error; its output is collected as it arrives, so a helper that leaves
/// a child holding its pipes open cannot hold the caller past the deadline either.
public struct ProcessCredentialHelperRunner: CredentialHelperRunner {
    /// Directories searched for `docker-credential-<helper>`; defaults to `$PATH`.
    public var searchPath: [String]
    /// The longest a helper may run.
    public var timeout: Duration

    public init(searchPath: [String]? = nil, timeout: Duration = .seconds(10)) {
        self.searchPath =
            searchPath
            ?? (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
            .split(separator: ":").map(String.init)
        self.timeout = timeout
    }

    public func get(helper: String, serverURL: String) throws(RegistryCredentialsError) -> CredentialHelperOutput? {
        // The helper name comes from a config file: never let it walk out of the search path.
        guard !helper.isEmpty, !helper.contains("/") else { throw .helperFailed(helper, "invalid helper name") }
        let program = "docker-credential-" + helper
        guard
            let path = searchPath.map({ ($0 as NSString).appendingPathComponent(program) })
                .first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else {
            throw .helperNotFound(program, searchPath)
        }
        let deadline = DispatchTime.now() + .nanoseconds(Self.nanoseconds(timeout))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["get"]
        let stdin = Pipe()
        let stdout = PipeCollector()
        let stderr = PipeCollector()
        process.standardInput = stdin
        process.standardOutput = stdout.pipe
        process.standardError = stderr.pipe
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do { try process.run() } catch {
            throw .helperFailed(program, "cannot start \(path): \(error.localizedDescription)")
        }
        // A helper that never reads its stdin cannot block this write: the URL fits in the pipe.
        stdin.fileHandleForWriting.write(Data(serverURL.utf8))
        try? stdin.fileHandleForWriting.close()
        guard exited.wait(timeout: deadline) == .success else {
            kill(process.processIdentifier, SIGKILL)
            _ = exited.wait(timeout: .now() + .seconds(1))
            stdout.stop()
            stderr.stop()
            throw .helperTimedOut(program, timeout)
        }
        // Output still in the pipes after exit: wait for end of file, but never past the deadline.
        let out = stdout.finish(by: deadline)
        let err = stderr.finish(by: deadline)
        let outText = String(decoding: out, as: UTF8.self)
        let errText = String(decoding: err, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            // docker-credential-helpers print this exact phrase when nothing is stored.
            if (outText + errText).lowercased().contains("credentials not found") { return nil }
            let detail = (errText.isEmpty ? outText : errText).trimmingCharacters(in: .whitespacesAndNewlines)
            throw .helperFailed(program, "exit status \(process.terminationStatus): \(detail)")
        }
        struct Wire: Decodable {
            var Username: String?
            var Secret: String?
        }
        guard let wire = try? JSONDecoder().decode(Wire.self, from: out), let secret = wire.Secret else {
            throw .helperFailed(program, "output is not {\"Username\":...,\"Secret\":...}")
        }
        return CredentialHelperOutput(username: wire.Username ?? "", secret: secret)
    }

    static func nanoseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow || seconds < 0 { return seconds < 0 ? 0 : Int.max }
        return Int(clamping: scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue)
    }
}

/// Collects what a child writes to one pipe as it arrives (on Foundation's dispatch sources),
/// so reading never blocks the caller.
final class PipeCollector: @unchecked Sendable {
    let pipe = Pipe()
    private let lock = NSLock()
    private var data = Data()
    private let ended = DispatchSemaphore(value: 0)

    init() {
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let chunk = handle.availableData
            guard let self else { return }
            if chunk.isEmpty {
                handle.readabilityHandler = nil
                self.ended.signal()
            } else {
                self.lock.lock()
                self.data.append(chunk)
                self.lock.unlock()
            }
        }
    }

    /// What arrived until end of file or `deadline`, whichever comes first.
    func finish(by deadline: DispatchTime) -> Data {
        _ = ended.wait(timeout: deadline)
        stop()
        lock.lock()
        defer { lock.unlock() }
        return data
    }

    /// Stops reading (the child was killed, or the deadline passed).
    func stop() {
        pipe.fileHandleForReading.readabilityHandler = nil
    }
}
