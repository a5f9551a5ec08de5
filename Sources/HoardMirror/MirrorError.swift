/// Why a mirror could not be planned, with what to do about it.
public enum MirrorError: Error, Sendable, Equatable, CustomStringConvertible {
    case repodata(subdir: String, String)
    case lockFile(String)
    case lockEntry(String, String)

    public var description: String {
        switch self {
        case .repodata(let subdir, let why): "the repodata.json of \(subdir) cannot be read: \(why)"
        case .lockFile(let why): "cannot read the lock file: \(why)"
        case .lockEntry(let entry, let why): "lock file entry \(entry): \(why)"
        }
    }
}
