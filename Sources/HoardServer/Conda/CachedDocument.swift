import HoardStore
import HoardUpstream

/// Upstream's answer that a document does not exist (404, 403 or 410), kept like a document:
/// fresh for the document TTL, then asked again. A client that falls back to another document on
/// a 404 (conda asks current_repodata.json first, then repodata.json) keeps working while
/// upstream is down, where a 502 would stop it.
struct MissingDocument: Sendable {
    let key: DocumentKey
    let row: MissingDocumentRow
    /// How long the answer stays fresh after it was given, in seconds.
    let ttl: Double

    var validatedAt: Double { row.checkedAt }

    /// The error answered for it: a not-found status, as upstream said.
    var error: UpstreamError { .status(url: row.upstreamURL, code: row.status) }
}

/// What hoard holds for a document: a snapshot, or upstream's word that there is none.
enum CachedDocument: Sendable {
    case present(DocumentSnapshot)
    case missing(MissingDocument)

    var snapshot: DocumentSnapshot? {
        if case .present(let snapshot) = self { return snapshot }
        return nil
    }

    var validatedAt: Double {
        switch self {
        case .present(let snapshot): return snapshot.validatedAt
        case .missing(let missing): return missing.validatedAt
        }
    }

    var ttl: Double {
        switch self {
        case .present(let snapshot): return snapshot.ttl
        case .missing(let missing): return missing.ttl
        }
    }

    func isFresh(at now: Double) -> Bool { now - validatedAt < ttl }

    /// The snapshot, or the not-found error to answer.
    func get() throws(UpstreamError) -> DocumentSnapshot {
        switch self {
        case .present(let snapshot): return snapshot
        case .missing(let missing): throw missing.error
        }
    }
}
