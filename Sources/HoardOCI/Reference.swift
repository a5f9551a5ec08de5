/// The `<reference>` of a manifest URL: a tag or a digest.
public enum Reference: Hashable, Sendable, CustomStringConvertible {
    case tag(Tag)
    case digest(OCIDigest)

    /// Anything with a ":" is taken as a digest (tags cannot contain ":"), the rest as a tag.
    public init(_ text: String) throws(ReferenceError) {
        if text.contains(":") {
            do { self = .digest(try OCIDigest(parsing: text)) } catch { throw .digest(error) }
        } else {
            do { self = .tag(try Tag(text)) } catch { throw .tag(error) }
        }
    }

    public var description: String {
        switch self {
        case .tag(let t): t.value
        case .digest(let d): d.description
        }
    }

    public var tag: Tag? { if case .tag(let t) = self { t } else { nil } }
    public var digest: OCIDigest? { if case .digest(let d) = self { d } else { nil } }
}

public enum ReferenceError: Error, Equatable, Sendable, CustomStringConvertible {
    case tag(TagError)
    case digest(OCIDigestError)

    public var message: String {
        switch self {
        case .tag(let e): e.message
        case .digest(let e): e.message
        }
    }

    public var description: String { message }

    public var ociError: OCIError {
        switch self {
        case .tag(let e): e.ociError
        case .digest(let e): e.ociError
        }
    }
}
