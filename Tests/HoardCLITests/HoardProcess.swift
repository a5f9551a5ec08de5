import Foundation

/// The built `hoard` binary, run as a user would run it.
enum HoardBinary {
    /// `$HOARD_BIN`, else the `hoard` beside this test bundle in the build directory.
    static var path: String {
        if let path = ProcessInfo.processInfo.environment["HOARD_BIN"] { return path }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        // The test bundle may be a directory (…/debug/hoardPackageTests.xctest/…).
        while !FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("hoard").path), directory.path != "/" {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("hoard").path
    }
}

/// A running hoard process with its stderr captured.
final class HoardProcess: @unchecked Sendable {
    let process = Process()
    private let errors = Pipe()
    private let output = Pipe()
    private let lock = NSLock()
    private var captured = Data()

    init(_ arguments: [String], stdin: Pipe? = nil, environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: HoardBinary.path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardError = errors
        process.standardOutput = output
        if let stdin { process.standardInput = stdin }
        try process.run()
        // stderr is read on a thread of its own until EOF, not with `readabilityHandler`: that
        // handler's dispatch source could still be draining when the pipe closed, which crashed
        // the test process in libdispatch (`_dispatch_event_loop_drain`) once.
        let handle = errors.fileHandleForReading
        let thread = Thread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                lock.withLock { captured.append(data) }
            }
            lock.withLock { drained = true }
        }
        thread.start()
    }

    private var drained = false

    var stderr: String { lock.withLock { String(decoding: captured, as: UTF8.self) } }

    /// Waits until stderr contains `text`, or fails after `timeout`.
    func waitForLog(_ text: String, timeout: Duration = .seconds(30)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let log = stderr
            if log.contains(text) { return log }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HoardProcessError.timedOut(waitingFor: text, log: stderr)
    }

    /// The port from the `hoard listening address=HOST:PORT` line.
    func listeningPort() async throws -> Int {
        let log = try await waitForLog("hoard listening")
        let line = log.split(separator: "\n").first { $0.contains("hoard listening") }!
        let address = line.split(separator: " ").first { $0.hasPrefix("address=") }!
        return Int(address.split(separator: ":").last!)!
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to exit and returns its status.
    func exitStatus(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                throw HoardProcessError.timedOut(waitingFor: "exit", log: stderr)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        // The reader may not have seen the last bytes yet: wait (briefly) for its EOF.
        let drainDeadline = ContinuousClock.now + .seconds(5)
        while !lock.withLock({ drained }), ContinuousClock.now < drainDeadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }

    var stdout: String {
        String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    /// Runs hoard to completion: (status, stdout, stderr).
    static func run(_ arguments: [String]) async throws -> (Int32, String, String) {
        let process = try HoardProcess(arguments)
        let out = process.stdout
        let status = try await process.exitStatus()
        return (status, out, process.stderr)
    }
}

enum HoardProcessError: Error, CustomStringConvertible {
    case timedOut(waitingFor: String, log: String)
    var description: String {
        switch self {
        case .timedOut(let text, let log): return "timed out waiting for \(text); hoard's stderr:\n\(log)"
        }
    }
}
