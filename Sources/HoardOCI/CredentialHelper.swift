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
/// Blocking: call it off the event loop and cache the result.
public struct ProcessCredentialHelperRunner: CredentialHelperRunner {
    /// Directories searched for `docker-credential-<helper>`; defaults to `$PATH`.
    public var searchPath: [String]

    public init(searchPath: [String]? = nil) {
        self.searchPath =
            searchPath
            ?? (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
            .split(separator: ":").map(String.init)
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["get"]
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do { try process.run() } catch {
            throw .helperFailed(program, "cannot start \(path): \(error.localizedDescription)")
        }
        stdin.fileHandleForWriting.write(Data(serverURL.utf8))
        try? stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
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
}
