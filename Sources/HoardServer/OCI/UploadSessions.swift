import Foundation
import HoardOCI
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// What `state.json` of an upload session holds; the bytes received so far are `data`.
struct UploadSessionState: Codable, Sendable {
    var repository: String
    var created: Double
}

/// An upload session that one request holds: its received bytes and where to append more.
struct UploadSession: Sendable {
    let id: UUID
    let repository: String
    let dataPath: String
    /// Bytes received so far (the size of `data`).
    let size: Int64
}

/// OCI upload sessions on disk under `<root>/tmp/uploads/<uuid>/` (`state.json` + `data`), so
/// they survive a restart; sessions idle longer than `expiry` are removed.
///
/// Only ids hoard generated (UUIDs) ever become paths. One request at a time works on a session:
/// a second concurrent PATCH or PUT gets a clear error instead of interleaving bytes.
actor UploadSessions {
    let directory: String
    let expiry: Duration
    let limits: UploadLimits
    let logger: Logger
    private var busy: Set<UUID> = []

    init(directory: String, expiry: Duration, limits: UploadLimits, logger: Logger) {
        self.directory = directory
        self.expiry = expiry
        self.limits = limits
        self.logger = logger
    }

    /// Opens a session; 429 when `limits.maxSessions` are open already.
    func create(repository: RepositoryName) throws -> UUID {
        var open = sessionIDs().count
        if open >= limits.maxSessions {
            // Expired sessions the janitor has not removed yet do not count.
            expire()
            open = sessionIDs().count
        }
        guard open < limits.maxSessions else { throw limits.tooManySessions(open: open) }
        let id = UUID()
        let path = sessionPath(id)
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            let state = try JSONEncoder().encode(UploadSessionState(repository: repository.value, created: Date().timeIntervalSince1970))
            guard FileManager.default.createFile(atPath: path + "/data", contents: nil),
                FileManager.default.createFile(atPath: path + "/state.json", contents: state)
            else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw OCIError(.blobUploadInvalid, "cannot create an upload session under \(directory): \(error.localizedDescription)", status: 500)
        }
        return id
    }

    /// The session's current state without holding it (GET status).
    func peek(_ id: UploadSessionID, repository: RepositoryName) throws(OCIError) -> UploadSession {
        try load(id, repository: repository)
    }

    /// Takes the session for one request; `release` gives it back.
    func acquire(_ id: UploadSessionID, repository: RepositoryName) throws(OCIError) -> UploadSession {
        let session = try load(id, repository: repository)
        guard busy.insert(session.id).inserted else {
            throw OCIError(.blobUploadInvalid, "upload \(id) is busy with another request; retry when it is done", status: 416)
        }
        return session
    }

    func release(_ session: UploadSession) {
        busy.remove(session.id)
    }

    /// Removes a session (finished, cancelled, or failed verification).
    func remove(_ session: UploadSession) {
        busy.remove(session.id)
        try? FileManager.default.removeItem(atPath: sessionPath(session.id))
    }

    /// Removes sessions idle for longer than `expiry` (and leftovers that are not sessions).
    @discardableResult
    func expire(now: Date = Date()) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var removed = 0
        let limit = Double(expiry.components.seconds)
        for name in names {
            let path = directory + "/" + name
            guard let id = UUID(uuidString: name), id.uuidString.lowercased() == name else {
                try? FileManager.default.removeItem(atPath: path)
                removed += 1
                continue
            }
            if busy.contains(id) { continue }
            let modified = (try? FileManager.default.attributesOfItem(atPath: path + "/data")[.modificationDate] as? Date) ?? nil
            if let modified, now.timeIntervalSince(modified) < limit { continue }
            try? FileManager.default.removeItem(atPath: path)
            removed += 1
        }
        if removed > 0 { logger.info("removed expired upload sessions", metadata: ["count": "\(removed)"]) }
        return removed
    }

    /// Bytes held by every session's `data` (they count against the store's `--max-size`).
    func bytesHeld() -> Int64 {
        var total: Int64 = 0
        for id in sessionIDs() {
            var st = stat()
            if stat(sessionPath(id) + "/data", &st) == 0 { total += Int64(st.st_size) }
        }
        return total
    }

    /// The sessions on disk (directories named by a canonical UUID).
    private func sessionIDs() -> [UUID] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name in
            guard let id = UUID(uuidString: name), id.uuidString.lowercased() == name else { return nil }
            return id
        }
    }

    private func sessionPath(_ id: UUID) -> String {
        directory + "/" + id.uuidString.lowercased()
    }

    private func load(_ id: UploadSessionID, repository: RepositoryName) throws(OCIError) -> UploadSession {
        // Only a canonical lowercase UUID names a session directory.
        guard let uuid = UUID(uuidString: id.value), uuid.uuidString.lowercased() == id.value else {
            throw OCIError(.blobUploadUnknown, "upload session \(id) is unknown")
        }
        let path = sessionPath(uuid)
        guard let data = FileManager.default.contents(atPath: path + "/state.json"),
            let state = try? JSONDecoder().decode(UploadSessionState.self, from: data),
            state.repository == repository.value
        else {
            throw OCIError(.blobUploadUnknown, "upload session \(id) is unknown to \(repository) (finished, cancelled or expired)")
        }
        var st = stat()
        guard stat(path + "/data", &st) == 0 else {
            throw OCIError(.blobUploadUnknown, "upload session \(id) lost its data; start a new upload")
        }
        return UploadSession(id: uuid, repository: state.repository, dataPath: path + "/data", size: Int64(st.st_size))
    }
}
