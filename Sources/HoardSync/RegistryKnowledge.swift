import HoardStore
import Synchronization

/// What one run knows of the registry without asking again: the repositories its catalog
/// listed when the run began (nil: no catalog, so every repository must be asked about), and
/// where this run put each blob (the source of cross-repository mounts).
final class RegistryKnowledge: Sendable {
    private let listed: Set<String>?
    private let seen = Mutex<(first: [BlobDigest: String], placed: Set<Placement>)>(([:], []))

    private struct Placement: Hashable {
        let digest: BlobDigest
        let repository: String
    }

    /// `listed`: repositories below the namespace that the registry's catalog named at the start.
    init(listed: Set<String>?) {
        self.listed = listed
    }

    /// Whether the repository did not exist when the run began: it then holds no manifest and
    /// no blob but what this run put there, so nothing needs a HEAD first.
    func isNew(_ repository: String) -> Bool {
        guard let listed else { return false }
        return !listed.contains(repository)
    }

    /// This run put (or found) `digest` in `repository`.
    func note(_ digest: BlobDigest, in repository: String) {
        seen.withLock {
            if $0.first[digest] == nil { $0.first[digest] = repository }
            $0.placed.insert(Placement(digest: digest, repository: repository))
        }
    }

    /// Whether this run already put `digest` in `repository`.
    func placed(_ digest: BlobDigest, in repository: String) -> Bool {
        seen.withLock { $0.placed.contains(Placement(digest: digest, repository: repository)) }
    }

    /// A repository other than `repository` this run saw `digest` in, to mount it from.
    func elsewhere(_ digest: BlobDigest, than repository: String) -> String? {
        seen.withLock { $0.first[digest] }.flatMap { $0 == repository ? nil : $0 }
    }
}
