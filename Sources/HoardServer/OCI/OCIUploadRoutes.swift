import HoardOCI
import HoardStore
import Hummingbird
import Logging

/// `POST /v2/<name>/blobs/uploads/` and the session endpoints (PATCH, PUT, GET, DELETE).
///
/// Bytes of a monolithic upload (POST `?digest=`, or a session closed by a PUT carrying the
/// whole blob) stream straight into the store's writer. Chunks of a PATCH upload are appended to
/// the store's upload session (`BlobUploads`), which the store copies into a new blob when the
/// PUT closes it, so a restart between chunks loses nothing. Either way the digest is checked
/// before anything is published.
struct OCIUploadRoutes {
    let store: Store
    let uploads: UploadSessions
    let logger: Logger
    /// Protected channels: a blob only they name is never mounted into a repository (it would
    /// be readable there without their credentials).
    var protectedChannels: Set<String> = []

    private func isPrivate(_ blob: BlobDigest) async throws -> Bool {
        guard !protectedChannels.isEmpty else { return false }
        let naming = try await store.index.condaChannels(naming: blob)
        guard !naming.isEmpty, naming.isSubset(of: protectedChannels) else { return false }
        return !(try await store.index.ociHasBlobInAnyRepository(blob))
    }

    func start(_ repository: RepositoryName, _ start: UploadStart, request: Request) async throws -> Response {
        switch start {
        case .session:
            return try await openSession(repository)
        case .monolithic(let digest):
            let limits = uploads.limits
            if let length = declaredLength(request) { try limits.checkBlobSize(length) }
            var sink = try await VerifyingSink(store: store, digest: digest)
            do {
                var received: Int64 = 0
                for try await buffer in request.body {
                    received += Int64(buffer.readableBytes)
                    try limits.checkBlobSize(received)
                    try await sink.write(buffer)
                }
            } catch {
                sink.abort()
                throw error
            }
            let record = try await sink.commit(into: store)
            return try await published(repository, digest, record)
        case .mount(let digest, let from):
            // Any blob hoard holds can be mounted (storage is shared by digest); a named source must
            // really hold it, or the client falls back to a normal upload (202) as the spec says.
            if let blob = try await resolve(digest) {
                let mountable: Bool
                if let from {
                    mountable = try await store.index.ociHasBlob(repository: from.value, digest: blob)
                } else {
                    let held = try await store.existingBlob(blob) != nil
                    let hidden = try await isPrivate(blob)
                    mountable = held && !hidden
                }
                if mountable {
                    try await store.index.ociAddBlob(repository: repository.value, digest: blob, alias: digest.algorithm == .sha256 ? nil : digest.description)
                    return created(repository, digest)
                }
            }
            return try await openSession(repository)
        }
    }

    func status(_ repository: RepositoryName, _ id: UploadSessionID) async throws -> Response {
        let session = try await uploads.peek(id, repository: repository)
        return .empty(.noContent, headers: progressHeaders(repository.value, session.id.value, size: session.size))
    }

    func chunk(_ repository: RepositoryName, _ id: UploadSessionID, request: Request) async throws -> Response {
        let session = try await uploads.acquire(id, repository: repository)
        let size: Int64
        do {
            try checkRange(request, session: session, id: id)
            // Bytes no byte of which is written past a limit: the blob's own, and (with
            // --max-size) what all sessions hold together.
            let limits = uploads.limits
            // Only a store size limit needs what the other sessions hold (a listing of them all).
            let others = limits.storeMaxSize == nil ? 0 : await uploads.bytesHeld() - session.size
            if let length = declaredLength(request) {
                try limits.checkBlobSize(session.size + length)
                try limits.checkUploadBytes(others + session.size + length)
            }
            let appender: any UploadAppender
            do { appender = try await uploads.store.appender(session.id) } catch { throw Self.uploadError(error) }
            for try await buffer in request.body {
                let total = appender.size + Int64(buffer.readableBytes)
                try limits.checkBlobSize(total)
                try limits.checkUploadBytes(others + total)
                do { try await appender.append(buffer) } catch { throw Self.uploadError(error) }
            }
            size = appender.size
            await uploads.release(session)
        } catch let error as OCIError where error.status == 413 || error.status == 507 {
            // Over a limit, or no room left: the session cannot be finished, so its bytes go now.
            await uploads.remove(session)
            throw error
        } catch {
            await uploads.release(session)
            throw error
        }
        return .empty(.accepted, headers: progressHeaders(repository.value, id.value, size: size))
    }

    func finish(_ repository: RepositoryName, _ id: UploadSessionID, digest: OCIDigest, request: Request) async throws -> Response {
        let session = try await uploads.acquire(id, repository: repository)
        var sink: VerifyingSink?
        do {
            try checkRange(request, session: session, id: id)
            let limits = uploads.limits
            if let length = declaredLength(request) { try limits.checkBlobSize(session.size + length) }
            // The store copies what the session holds into a new blob, then the body follows; a
            // session that holds nothing (a monolithic upload) needs no copy, nor a look for its bytes.
            var s = session.size == 0
                ? try await VerifyingSink(store: store, digest: digest)
                : try await VerifyingSink(uploads: uploads.store, session: session.id, digest: digest)
            sink = s
            var size = s.writer.bytesWritten
            for try await buffer in request.body {
                size += Int64(buffer.readableBytes)
                try limits.checkBlobSize(size)
                try await s.write(buffer)
            }
            let record = try await s.commit(into: store)
            await uploads.remove(session, heldNothing: session.size == 0)
            return try await published(repository, digest, record)
        } catch let error as OCIError where error.status == 413 {
            sink?.abort()
            await uploads.remove(session)
            throw error
        } catch let error as OCIError where error.code == .digestInvalid {
            await uploads.remove(session)
            throw error
        } catch let error as StoreError {
            sink?.abort()
            switch error {
            case .digestMismatch, .sizeMismatch, .uploadNotFound: await uploads.remove(session)
            default: await uploads.release(session)
            }
            throw error
        } catch {
            sink?.abort()
            await uploads.release(session)
            throw error
        }
    }

    func cancel(_ repository: RepositoryName, _ id: UploadSessionID) async throws -> Response {
        let session = try await uploads.acquire(id, repository: repository)
        await uploads.remove(session)
        return .empty(.noContent)
    }

    // MARK: Helpers

    private func openSession(_ repository: RepositoryName) async throws -> Response {
        let id = try await uploads.create(repository: repository)
        return .empty(.accepted, headers: progressHeaders(repository.value, id.value, size: 0))
    }

    /// A store failure while a chunk is appended: a full disk is 507 (and the session goes).
    private static func uploadError(_ error: StoreError) -> OCIError {
        switch error {
        case .diskFull: OCIError(.blobUploadInvalid, error.description, status: 507)
        case .uploadNotFound: OCIError(.blobUploadUnknown, error.description)
        default: ErrorResponses.ociError(error)
        }
    }

    /// The sha256 blob a digest names, if hoard has it.
    private func resolve(_ digest: OCIDigest) async throws -> BlobDigest? {
        switch digest.algorithm {
        case .sha256: return try BlobDigest(parsing: digest.hex)
        case .sha512: return try await store.index.ociAlias(digest.description)
        }
    }

    private func published(_ repository: RepositoryName, _ digest: OCIDigest, _ record: BlobRecord) async throws -> Response {
        try await store.index.ociAddBlob(
            repository: repository.value, digest: record.digest, alias: digest.algorithm == .sha256 ? nil : digest.description)
        return created(repository, digest)
    }

    private func created(_ repository: RepositoryName, _ digest: OCIDigest) -> Response {
        .empty(.created, headers: [.location: "/v2/\(repository.value)/blobs/\(digest)", .dockerContentDigest: digest.description])
    }

    /// The body length the client declared, if any (a number that is not one counts as none).
    private func declaredLength(_ request: Request) -> Int64? {
        request.headers[.contentLength].flatMap { Int64($0) }.flatMap { $0 >= 0 ? $0 : nil }
    }

    /// A chunk must start where the session ends; 416 (with where it ends) otherwise.
    private func checkRange(_ request: Request, session: UploadSession, id: UploadSessionID) throws {
        let length = request.headers[.contentLength].flatMap { Int64($0) }
        do {
            try UploadProgress.checkChunk(contentRange: request.headers[.contentRange], currentOffset: session.size, bodyLength: length)
        } catch {
            throw OCIResponseError(error: error.ociError, headers: progressHeaders(session.repository, id.value, size: session.size))
        }
    }

    /// `repository` is a validated name (from the route, or read back from the session state).
    private func progressHeaders(_ repository: String, _ id: String, size: Int64) -> HTTPFields {
        [
            .location: "/v2/\(repository)/blobs/uploads/\(id)",
            .range: UploadProgress.rangeHeader(receivedBytes: size),
            .dockerUploadUUID: id,
        ]
    }
}

/// An OCI error that also carries headers (a 416 says where the upload stands).
struct OCIResponseError: Error {
    let error: OCIError
    let headers: HTTPFields
}
