/// Hides the secrets a URL (or any text holding URLs) may carry before it is logged, counted or
/// shown: conda's path token (`/t/<TOKEN>/` becomes `/t/<redacted>/`) and the password of
/// userinfo (`https://user:pass@host` becomes `https://user:<redacted>@host`).
public enum SecretRedaction {
    public static let placeholder = "<redacted>"

    public static func redact(_ text: String) -> String {
        guard text.contains("/t/") || text.contains("@") else { return text }
        return redactUserinfo(redactPathTokens(text))
    }

    /// `/t/<anything but '/' and whitespace>` followed by `/` or the end of a URL.
    static func redactPathTokens(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let range = rest.firstRange(of: "/t/") {
            out += rest[..<range.upperBound]
            let after = rest[range.upperBound...]
            let token: Substring = after.prefix { (c: Character) -> Bool in
                c != "/" && c != "\"" && c != "'" && !c.isWhitespace
            }
            if token.isEmpty || token == Substring(placeholder) {
                rest = after
            } else {
                out += placeholder
                rest = after.dropFirst(token.count)
            }
        }
        return out + rest
    }

    /// `scheme://user:password@` → `scheme://user:<redacted>@`; a user without a password is kept.
    static func redactUserinfo(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let range = rest.firstRange(of: "://") {
            out += rest[..<range.upperBound]
            let after = rest[range.upperBound...]
            // The authority ends at the first '/', '?', '#' or whitespace; userinfo at its last '@'.
            let authority: Substring = after.prefix { (c: Character) -> Bool in
                c != "/" && c != "?" && c != "#" && c != "\"" && !c.isWhitespace
            }
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":"),
                authority[authority.index(after: colon)..<at] != Substring(placeholder)
            {
                out += authority[...colon]
                out += placeholder
                out += authority[at...]
                rest = after.dropFirst(authority.count)
            } else {
                rest = after
            }
        }
        return out + rest
    }
}
