import Foundation
import HoardHTTP
import HoardOCI
import HoardStore
import NIOCore
import NIOHTTP1

/// The push side of the registry client (distribution-spec "push" and "content discovery"):
/// blob existence (HEAD), cross-repository mounts, monolithic and chunked uploads, manifest
/// PUTs whose digest is checked against the registry's `Docker-Content-Digest`.
///
/// Every request asks for a `pull,push` credential on the repository, so one token serves the
/// whole exchange of a repository.
extension RegistryClient {
    static func pushScope(_ fullRepository: String) -> String { "repository:\(fullRepository):pull,push" }

    private func url(_ endpoint: RegistryEndpoint, _ fullRepository: String, _ path: String) -> String {
        "\(endpoint.baseURL)/v2/\(fullRepository)/\(path)"
    }

    /// The size of a blob the repository holds, nil when it does not (404).
    public func blobSize(_ endpoint: RegistryEndpoint, repository: String, digest: BlobDigest) async throws(UpstreamError) -> Int64? {
        let full = endpoint.repository(repository)
        let response = try await perform(
            endpoint, url: url(endpoint, full, "blobs/\(digest)"), scope: Self.pushScope(full), method: .HEAD)
        _ = try? await response.collect(limit: 1 << 20)
        switch response.status {
        case 200: return response.contentLength ?? 0
        case 404: return nil
        default: throw .status(url: response.url, code: response.status)
        }
    }

    /// The digest a tag (or digest) names, nil when the repository has no such manifest.
    public func manifestDigest(_ endpoint: RegistryEndpoint, repository: String, reference: String) async throws(UpstreamError)
        -> BlobDigest?
    {
        let full = endpoint.repository(repository)
        let response = try await perform(
            endpoint, url: url(endpoint, full, "manifests/\(reference)"), scope: Self.pushScope(full), method: .HEAD,
            headers: ["Accept": Self.manifestAccept])
        _ = try? await response.collect(limit: 1 << 20)
        switch response.status {
        case 200:
            if let header = response.headers.first(name: "docker-content-digest"), let digest = try? BlobDigest(parsing: header) {
                return digest
            }
            // No digest header: fetch and hash (the registry owes us the exact bytes).
            return try await manifest(endpoint, repository: repository, reference: reference).digest
        case 404: return nil
        default: throw .status(url: response.url, code: response.status)
        }
    }

    /// How a blob reached the repository.
    public enum BlobPush: Sendable, Equatable {
        /// The registry already had it (HEAD); nothing moved.
        case present
        /// Mounted from another repository of the registry; nothing moved.
        case mounted
        /// Uploaded: this many body bytes were sent.
        case uploaded(bytes: Int64)
    }

    /// Pushes one blob unless the repository has it: HEAD (unless `checkFirst` is false: the
    /// caller knows the repository cannot hold it), then a mount from `mountFrom` when given,
    /// then an upload: in `chunkSize` PATCHes when the blob is larger (falling back to one
    /// monolithic PUT when the registry refuses chunks), else one PUT.
    public func pushBlob(
        _ endpoint: RegistryEndpoint, repository: String, digest: BlobDigest, size: Int64,
        content: BlobContent, mountFrom: String? = nil, chunkSize: Int64, checkFirst: Bool = true
    ) async throws -> BlobPush {
        if checkFirst, try await blobSize(endpoint, repository: repository, digest: digest) != nil { return .present }
        let full = endpoint.repository(repository)
        let scope = Self.pushScope(full)
        var start = url(endpoint, full, "blobs/uploads/")
        if let mountFrom {
            start += "?mount=\(digest)&from=\(PercentEncoding.encode(endpoint.repository(mountFrom)))"
        }
        let opened = try await perform(endpoint, url: start, scope: scope, method: .POST, headers: ["Content-Length": "0"])
        _ = try? await opened.collect(limit: 1 << 20)
        if opened.status == 201 { return .mounted }
        guard opened.status == 202, let location = opened.headers.first(name: "location") else {
            throw UpstreamError.status(url: opened.url, code: opened.status)
        }
        let reader: any BlobReader
        switch content {
        case .bytes(let bytes):
            // Small bodies made in memory (the empty config, generated repodata): one PUT.
            try await close(endpoint, scope: scope, location: resolve(location, endpoint), digest: digest, body: .bytes(bytes))
            return .uploaded(bytes: Int64(bytes.count))
        case .store(let open):
            reader = try await open()
        }
        guard reader.size == size else { throw StoreError.sizeMismatch(expected: size, actual: reader.size) }
        if size > chunkSize {
            switch try await uploadChunks(endpoint, scope: scope, location: resolve(location, endpoint), digest: digest, reader: reader, chunkSize: chunkSize) {
            case .done(let sent): return .uploaded(bytes: sent)
            case .refused:
                // Some registries take no PATCH: start again, monolithic.
                let again = try await perform(endpoint, url: url(endpoint, full, "blobs/uploads/"), scope: scope, method: .POST, headers: ["Content-Length": "0"])
                _ = try? await again.collect(limit: 1 << 20)
                guard again.status == 202, let location = again.headers.first(name: "location") else {
                    throw UpstreamError.status(url: again.url, code: again.status)
                }
                try await close(endpoint, scope: scope, location: resolve(location, endpoint), digest: digest, body: .blob(reader, length: size))
                return .uploaded(bytes: size)
            }
        }
        try await close(endpoint, scope: scope, location: resolve(location, endpoint), digest: digest, body: .blob(reader, length: size))
        return .uploaded(bytes: size)
    }

    /// Where a blob's bytes come from.
    public enum BlobContent: Sendable {
        case bytes([UInt8])
        /// Opened only when the registry needs the bytes (after HEAD and mount said no).
        case store(@Sendable () async throws -> any BlobReader)
    }

    private enum ChunkOutcome { case done(Int64), refused }

    private func uploadChunks(
        _ endpoint: RegistryEndpoint, scope: String, location: String, digest: BlobDigest, reader: any BlobReader, chunkSize: Int64
    ) async throws -> ChunkOutcome {
        var location = location
        var offset: Int64 = 0
        while offset < reader.size {
            let length = min(chunkSize, reader.size - offset)
            let response = try await perform(
                endpoint, url: location, scope: scope, method: .PATCH,
                headers: [
                    "Content-Type": "application/octet-stream", "Content-Length": "\(length)",
                    "Content-Range": "\(offset)-\(offset + length - 1)",
                ], upload: .blob(reader, offset: offset, length: length))
            _ = try? await response.collect(limit: 1 << 20)
            if response.status != 202 {
                // Refused at the first chunk: the registry does not do chunks (fall back).
                if offset == 0, [400, 404, 405, 416, 501].contains(response.status) { return .refused }
                throw UpstreamError.status(url: response.url, code: response.status)
            }
            if let next = response.headers.first(name: "location") { location = resolve(next, endpoint) }
            offset += length
        }
        try await close(endpoint, scope: scope, location: location, digest: digest, body: nil)
        return .done(reader.size)
    }

    /// The closing PUT `<location>?digest=`, with the (rest of the) body or none; 201 expected.
    private func close(_ endpoint: RegistryEndpoint, scope: String, location: String, digest: BlobDigest, body: UploadBody?) async throws {
        let target = location + (location.contains("?") ? "&" : "?") + "digest=\(digest)"
        var headers: HTTPHeaders = ["Content-Type": "application/octet-stream"]
        headers.add(name: "Content-Length", value: "\(body?.length ?? 0)")
        let response = try await perform(endpoint, url: target, scope: scope, method: .PUT, headers: headers, upload: body)
        _ = try? await response.collect(limit: 1 << 20)
        guard response.status == 201 else { throw UpstreamError.status(url: response.url, code: response.status) }
        if let claimed = response.headers.first(name: "docker-content-digest"), let parsed = try? BlobDigest(parsing: claimed), parsed != digest {
            throw UpstreamError.integrity(url: response.url, detail: "the registry stored the blob as \(parsed), not \(digest)")
        }
    }

    /// PUTs a manifest under `reference` and checks that the registry names it by the sha256 of
    /// the exact bytes sent (`Docker-Content-Digest`); returns that digest.
    @discardableResult
    public func putManifest(_ endpoint: RegistryEndpoint, repository: String, reference: String, bytes: [UInt8], mediaType: String)
        async throws(UpstreamError) -> BlobDigest
    {
        let full = endpoint.repository(repository)
        let digest = BlobDigest.of(bytes)
        let response = try await perform(
            endpoint, url: url(endpoint, full, "manifests/\(reference)"), scope: Self.pushScope(full), method: .PUT,
            headers: ["Content-Type": mediaType, "Content-Length": "\(bytes.count)"], upload: .bytes(bytes))
        let body = (try? await response.collect(limit: 1 << 20)).map { String(buffer: $0) } ?? ""
        guard response.status == 201 else {
            throw .denied(url: response.url, reason: "manifest PUT answered HTTP \(response.status): \(body.prefix(300))")
        }
        if let claimed = response.headers.first(name: "docker-content-digest") {
            guard let parsed = try? BlobDigest(parsing: claimed), parsed == digest else {
                throw .integrity(url: response.url, detail: "the registry names the manifest \(claimed), but the bytes sent hash to \(digest)")
            }
        }
        return digest
    }

    /// The repositories below the endpoint's namespace that the registry lists in its catalog
    /// (`GET /v2/_catalog`, paged by `Link`, starting after the namespace), relative to the
    /// namespace; nil when the registry keeps no catalog, refuses it, or lists more than
    /// `maxPages` pages of 1,000 (then the caller must ask about each repository instead).
    /// Catalogs list in order, so the walk stops at the first name past the namespace.
    public func repositories(_ endpoint: RegistryEndpoint, maxPages: Int = 1_000) async -> Set<String>? {
        let prefix = endpoint.namespace.isEmpty ? "" : endpoint.namespace + "/"
        var next: String? = "\(endpoint.baseURL)/v2/_catalog?n=1000"
            + (endpoint.namespace.isEmpty ? "" : "&last=\(PercentEncoding.encode(endpoint.namespace))")
        // Names under the namespace are contiguous in a catalog, whether it sorts plainly or
        // by path component; none comes after `<namespace>0` ('0' follows '/') in either order.
        let end = endpoint.namespace + "0"
        var found: Set<String> = []
        var pages = 0
        while let url = next {
            pages += 1
            guard pages <= maxPages else { return nil }
            guard let response = try? await perform(endpoint, url: url, scope: "registry:catalog:*", method: .GET) else { return nil }
            guard response.status == 200, let body = try? await response.collect(limit: 16 << 20),
                let page = try? JSONDecoder().decode(CatalogPage.self, from: Data(Array(buffer: body)))
            else {
                _ = try? await response.collect(limit: 1 << 20)
                return nil
            }
            var past = false
            for name in page.repositories ?? [] {
                if name.hasPrefix(prefix) {
                    found.insert(String(name.dropFirst(prefix.count)))
                } else if !prefix.isEmpty, !found.isEmpty || name >= end {
                    past = true
                }
            }
            if past { break }
            next = Self.nextLink(response.headers.first(name: "link")).map { resolve($0, endpoint) }
        }
        return found
    }

    private struct CatalogPage: Decodable { let repositories: [String]? }

    /// The target of `Link: <URL>; rel="next"`, nil when there is none.
    static func nextLink(_ header: String?) -> String? {
        guard let header else { return nil }
        for part in header.split(separator: ",") where part.contains("rel=\"next\"") || part.contains("rel=next") {
            guard let open = part.firstIndex(of: "<"), let close = part[open...].firstIndex(of: ">") else { continue }
            return String(part[part.index(after: open)..<close])
        }
        return nil
    }

    /// Checks that the registry answers and that hoard's credentials may push to `repository`:
    /// `GET /v2/`, then an upload session opened and cancelled. Returns how it authenticated.
    public func checkPushAccess(_ endpoint: RegistryEndpoint, repository: String) async throws(UpstreamError) -> String {
        let full = endpoint.repository(repository)
        let scope = Self.pushScope(full)
        let ping = try await perform(endpoint, url: "\(endpoint.baseURL)/v2/", scope: scope, method: .GET)
        _ = try? await ping.collect(limit: 1 << 20)
        guard ping.status == 200 else { throw .status(url: ping.url, code: ping.status) }
        let opened = try await perform(endpoint, url: url(endpoint, full, "blobs/uploads/"), scope: scope, method: .POST, headers: ["Content-Length": "0"])
        _ = try? await opened.collect(limit: 1 << 20)
        guard opened.status == 202, let location = opened.headers.first(name: "location") else {
            if opened.status == 403 { throw .denied(url: opened.url, reason: "HTTP 403: the credentials may not push to \(full)") }
            throw .status(url: opened.url, code: opened.status)
        }
        let cancel = try await perform(endpoint, url: resolve(location, endpoint), scope: scope, method: .DELETE)
        _ = try? await cancel.collect(limit: 1 << 20)
        return auth.challengeScheme(for: endpoint) ?? "anonymous"
    }

    /// A `Location` may be relative to the registry (distribution sends absolute ones).
    func resolve(_ location: String, _ endpoint: RegistryEndpoint) -> String {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        return endpoint.baseURL + (location.hasPrefix("/") ? "" : "/") + location
    }
}
