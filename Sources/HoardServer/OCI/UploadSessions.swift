import Foundation
import HoardOCI
import HoardStore
import Logging

/// What an upload session's metadata in the store holds (JSON; the file backend keeps it as
/// `state.json`). The bytes received so far are the session's own.
struct UploadSessionState: Codable, Sendable {
    var repository: String
    var created: Double
}

/// An upload session that one request holds: which one, for which repository, and how many
/// bytes it has received.
struct UploadSession: Sendable {
    let id: UploadID
    let repository: String
    /// Bytes received so far.
    let size: Int64
}

/// The OCI front's policy over the store's upload sessions (`BlobUploads`, which keeps their
/// bytes): which repository a session belongs to, how many may be open, when one expires, and
/// that one request at a time works on a session (a second concurrent PATCH or PUT gets a clear
/// error instead of interleaving bytes).
actor UploadSessions {
    let store: any BlobUploads
    let expiry: Duration
    let limits: UploadLimits
    let logger: Logger
    private var busy: Set<UploadID> = []
    /// Sessions being created: they count against the limit before the store has them.
    private var creating = 0
    /// The last listing's count of open sessions, when it was taken, and how many this node
    /// opened since. A listing per POST costs more with every session the store ever held (a
    /// bucket keeps their emptied directories on SeaweedFS: POSTs went from 60 to 300 ms within
    /// 1,000 pushes), so POSTs list at most once per `countLifetime` while the estimate (which
    /// leaves out only sessions other nodes opened meanwhile) stays below the limit.
    private var counted: (open: Int, at: ContinuousClock.Instant)?
    private var openedSinceCount = 0
    static let countLifetime: Duration = .seconds(5)

    init(store: any BlobUploads, expiry: Duration, limits: UploadLimits, logger: Logger) {
        self.store = store
        self.expiry = expiry
        self.limits = limits
        self.logger = logger
    }

    /// Opens a session; 429 when `limits.maxSessions` are open already.
    func create(repository: RepositoryName) async throws -> UploadID {
        var open = try await openSessions(exact: false)
        if open >= limits.maxSessions {
            // Expired sessions the janitor has not removed yet do not count.
            await expire()
            open = try await openSessions(exact: true)
        }
        guard open < limits.maxSessions else { throw limits.tooManySessions(open: open) }
        creating += 1
        defer { creating -= 1 }
        do {
            let state = try JSONEncoder().encode(UploadSessionState(repository: repository.value, created: Date().timeIntervalSince1970))
            let id = try await store.create(metadata: Array(state))
            openedSinceCount += 1
            return id
        } catch let error as StoreError {
            // An unreachable bucket is a 503 the client may retry, not hoard's fault.
            if case .unavailable = error { throw ErrorResponses.ociError(error) }
            throw OCIError(.blobUploadInvalid, "cannot create an upload session: \(error)", status: 500)
        } catch {
            throw OCIError(.blobUploadInvalid, "cannot create an upload session: \(error)", status: 500)
        }
    }

    /// The session's current state without holding it (GET status).
    func peek(_ id: UploadSessionID, repository: RepositoryName) async throws(OCIError) -> UploadSession {
        try await load(id, repository: repository)
    }

    /// Takes the session for one request; `release` gives it back.
    func acquire(_ id: UploadSessionID, repository: RepositoryName) async throws(OCIError) -> UploadSession {
        let session = try await load(id, repository: repository)
        guard busy.insert(session.id).inserted else {
            throw OCIError(.blobUploadInvalid, "upload \(id) is busy with another request; retry when it is done", status: 416)
        }
        return session
    }

    func release(_ session: UploadSession) {
        busy.remove(session.id)
    }

    /// Removes a session (finished, cancelled, or failed verification).
    /// `heldNothing`: the caller knows the session never held a byte (a monolithic upload just
    /// finished), so the store need not look for its bytes.
    func remove(_ session: UploadSession, heldNothing: Bool = false) async {
        do {
            if heldNothing {
                try await store.removeEmpty(session.id)
            } else {
                try await store.remove(session.id)
            }
        } catch {
            // The janitor removes it once it expires.
            logger.warning("could not remove an upload session", metadata: ["upload": "\(session.id)", "error": "\(error)"])
        }
        busy.remove(session.id)
    }

    /// Removes sessions idle for longer than `expiry`.
    @discardableResult
    func expire(now: Date = Date()) async -> Int {
        let entries: [UploadEntry]
        do {
            entries = try await store.list()
        } catch {
            logger.error("cannot list upload sessions to expire them", metadata: ["error": "\(error)"])
            return 0
        }
        let limit = Double(expiry.components.seconds)
        var removed = 0
        for entry in entries where !busy.contains(entry.id) && now.timeIntervalSince(entry.lastModified) >= limit {
            do {
                try await store.remove(entry.id)
                removed += 1
            } catch {
                logger.warning("could not remove an expired upload session", metadata: ["upload": "\(entry.id)", "error": "\(error)"])
            }
        }
        if removed > 0 { logger.info("removed expired upload sessions", metadata: ["count": "\(removed)"]) }
        return removed
    }

    /// Sessions open now, those being created included: counted by a listing, or estimated from
    /// a recent one (never below the truth on one node) while the estimate is below the limit.
    private func openSessions(exact: Bool) async throws -> Int {
        if !exact, let counted, ContinuousClock.now - counted.at < Self.countLifetime {
            let estimate = counted.open + openedSinceCount + creating
            if estimate < limits.maxSessions { return estimate }
        }
        let open = try await store.list().count
        counted = (open, .now)
        openedSinceCount = 0
        return open + creating
    }

    /// Bytes held by every session (they count against the store's `--max-size`).
    func bytesHeld() async -> Int64 {
        let entries = (try? await store.list()) ?? []
        return entries.reduce(0) { $0 + $1.size }
    }

    private func load(_ id: UploadSessionID, repository: RepositoryName) async throws(OCIError) -> UploadSession {
        // Only a canonical lowercase UUID names a session.
        guard let uploadID = UploadID(id.value) else {
            throw OCIError(.blobUploadUnknown, "upload session \(id) is unknown")
        }
        let info: UploadInfo?
        do {
            info = try await store.info(uploadID)
        } catch {
            if case .unavailable = error { throw ErrorResponses.ociError(error) }
            throw OCIError(.blobUploadInvalid, "cannot read upload session \(id): \(error)", status: 500)
        }
        guard let info, let state = try? JSONDecoder().decode(UploadSessionState.self, from: Data(info.metadata)),
            state.repository == repository.value
        else {
            throw OCIError(.blobUploadUnknown, "upload session \(id) is unknown to \(repository) (finished, cancelled or expired)")
        }
        return UploadSession(id: uploadID, repository: state.repository, size: info.size)
    }
}
