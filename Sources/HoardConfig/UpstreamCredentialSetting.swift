/// Credentials for a channel's upstream, as its `[channels.NAME]` table gives them.
public enum UpstreamCredentialSetting: Sendable, Equatable {
    /// `username` and `password`: HTTP Basic.
    case basic(username: String, password: String)
    /// `token`: `Authorization: Bearer <token>` (prefix.dev, Artifactory access tokens).
    case bearer(String)
}

/// Printing the config never shows a secret.
extension UpstreamCredentialSetting: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        switch self {
        case .basic(let username, _): "basic(\(username):<redacted>)"
        case .bearer: "bearer(<redacted>)"
        }
    }

    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
