/// Credentials for a channel's upstream, as its `[channels.NAME]` table gives them.
public enum UpstreamCredentialSetting: Sendable, Equatable {
    /// `username` and `password`: HTTP Basic.
    case basic(username: String, password: String)
    /// `token`: `Authorization: Bearer <token>` (prefix.dev, Artifactory access tokens).
    case bearer(String)
}
