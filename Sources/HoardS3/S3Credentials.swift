import Foundation

/// AWS credentials for signing.
public struct S3Credentials: Sendable, Hashable, CustomStringConvertible {
    public let accessKeyID: String
    public let secretAccessKey: String
    public let sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// Never prints the secret.
    public var description: String { "access key \(accessKeyID)" }

    /// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, else AWS_PROFILE (or `default`)
    /// in AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials.
    /// Reads a small local file synchronously: call it at start-up, not on a request path.
    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws(S3Error) -> S3Credentials {
        let accessKey = environment["AWS_ACCESS_KEY_ID"].flatMap { $0.isEmpty ? nil : $0 }
        let secretKey = environment["AWS_SECRET_ACCESS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        switch (accessKey, secretKey) {
        case let (access?, secret?):
            let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            return S3Credentials(accessKeyID: access, secretAccessKey: secret, sessionToken: token)
        case (.some, nil):
            throw .noCredentials("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both")
        case (nil, .some):
            throw .noCredentials("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both")
        case (nil, nil):
            break
        }
        let explicitProfile = environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 }
        let profile = explicitProfile ?? "default"
        let path: String
        let explicitFile: Bool
        if let file = environment["AWS_SHARED_CREDENTIALS_FILE"], !file.isEmpty {
            path = Self.expandTilde(file, home: environment["HOME"])
            explicitFile = true
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            path = home + "/.aws/credentials"
            explicitFile = false
        }
        guard FileManager.default.fileExists(atPath: path) else {
            if explicitFile || explicitProfile != nil {
                throw .noCredentials("no S3 credentials: the credentials file \(path) does not exist (AWS_SHARED_CREDENTIALS_FILE / AWS_PROFILE)")
            }
            throw .noCredentials("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or put a [default] profile in \(path) (AWS_PROFILE picks another)")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw .invalidCredentials("the credentials file \(path) cannot be read as UTF-8 text")
        }
        let profiles = Self.parseINI(text)
        guard let section = profiles[profile] else {
            throw .noCredentials("no S3 credentials: the credentials file \(path) has no [\(profile)] profile")
        }
        guard let access = section["aws_access_key_id"], !access.isEmpty,
              let secret = section["aws_secret_access_key"], !secret.isEmpty else {
            throw .invalidCredentials("the profile [\(profile)] in \(path) lacks aws_access_key_id or aws_secret_access_key")
        }
        let token = section["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
        return S3Credentials(accessKeyID: access, secretAccessKey: secret, sessionToken: token)
    }

    /// The AWS shared-credentials format: `[profile]` sections of `key = value` lines; `#` and `;`
    /// start comments; keys are case-insensitive.
    static func parseINI(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                var name = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                // ~/.aws/config writes `[profile NAME]`; accept it here too.
                if name.hasPrefix("profile ") { name = String(name.dropFirst("profile ".count)).trimmingCharacters(in: .whitespaces) }
                current = name
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            sections[current, default: [:]][key] = value
        }
        return sections
    }

    private static func expandTilde(_ path: String, home: String?) -> String {
        guard path.hasPrefix("~/") else { return path }
        let base = home.flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return base + path.dropFirst()
    }
}
