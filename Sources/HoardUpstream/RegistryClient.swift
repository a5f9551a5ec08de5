import Foundation
import HoardOCI
import HoardStore
import NIOCore
import NIOHTTP1

/// Talks to an upstream OCI registry as docker clients do: authenticates on demand
/// (`RegistryAuth`), waits out a 429 for as long as `Retry-After` says (up to `maxRetryAfter`),
/// resolves tags to digests, and fetches manifests (verified) and blobs (streamed) by digest.
///
/// Blob redirects (ghcr.io answers 307 to its storage) are followed by the HTTP client, which
/// drops `Authorization` when the redirect leaves the registry's origin.
public final class RegistryClient: Sendable {
    public let http: HTTPUpstream
    public let maxRetryAfter: Duration
    let auth: RegistryAuth

    /// Every manifest type hoard can store and serve; registries (docker-registry among them)
    /// answer 404 for an OCI manifest the Accept list does not name.
    public static let manifestAccept = [
        OCIMediaType.imageManifest, OCIMediaType.imageIndex, OCIMediaType.dockerManifest, OCIMediaType.dockerManifestList,
    ].joined(separator: ", ")

    public init(http: HTTPUpstream, credentials: UpstreamCredentials?, maxRetryAfter: Duration = .seconds(10)) {
        self.http = http
        self.maxRetryAfter = maxRetryAfter
        auth = RegistryAuth(http: http, credentials: credentials)
    }

    /// `GET|HEAD <base>/v2/<namespace/repository>/<path>`, authenticated as needed.
    public func send(
        _ endpoint: RegistryEndpoint, repository: String, path: String, method: HTTPMethod = .GET, headers: HTTPHeaders = [:]
    ) async throws(UpstreamError) -> UpstreamResponse {
        let fullRepository = endpoint.repository(repository)
        let url = "\(endpoint.baseURL)/v2/\(fullRepository)/\(path)"
        return try await perform(endpoint, url: url, scope: "repository:\(fullRepository):pull", method: method, headers: headers)
    }

    /// Sends one request to any URL of the registry (an upload `Location`, `/v2/`) with the
    /// credential for `scope`: answers one challenge (401) and waits out a 429, as `send` does.
    /// `upload`, when given, is sent again with the retried request.
    func perform(
        _ endpoint: RegistryEndpoint, url: String, scope: String, method: HTTPMethod, headers: HTTPHeaders = [:], upload: UploadBody? = nil
    ) async throws(UpstreamError) -> UpstreamResponse {
        var authorization = try await auth.authorization(for: endpoint, scope: scope)
        var answeredChallenge = false
        var rateLimitWaits = 0
        while true {
            var request = UpstreamRequest(url: url, method: method, headers: headers, upload: upload)
            if let authorization { request.headers.replaceOrAdd(name: "Authorization", value: authorization) }
            let response = try await http.send(request)
            switch response.status {
            case 401 where !answeredChallenge:
                _ = try? await response.collect(limit: 1 << 20)
                answeredChallenge = true
                guard let answer = try await auth.answer(response.headers, endpoint: endpoint, scope: scope, url: url) else {
                    throw .denied(url: url, reason: "HTTP 401")
                }
                authorization = answer
            case 401:
                _ = try? await response.collect(limit: 1 << 20)
                throw .denied(url: url, reason: "HTTP 401 even with a fresh credential for \(scope)")
            case 429:
                _ = try? await response.collect(limit: 1 << 20)
                let wait = Self.retryAfter(response.headers.first(name: "retry-after"))
                guard rateLimitWaits < 3, wait <= maxRetryAfter else { throw .status(url: url, code: 429) }
                rateLimitWaits += 1
                try? await Task.sleep(for: wait)
            default:
                return response
            }
        }
    }

    /// What a tag (or digest) names upstream.
    public struct ResolvedManifest: Sendable, Hashable {
        public let digest: BlobDigest
        public let mediaType: String
    }

    /// Resolves `reference` with a HEAD (no body moves); when the registry sends no
    /// `Docker-Content-Digest`, the manifest is fetched and hashed instead.
    public func resolve(_ endpoint: RegistryEndpoint, repository: String, reference: String) async throws(UpstreamError) -> ResolvedManifest {
        let response = try await send(
            endpoint, repository: repository, path: "manifests/\(reference)", method: .HEAD, headers: ["Accept": Self.manifestAccept])
        _ = try? await response.collect(limit: 1 << 20)
        guard response.status == 200 else { throw .status(url: response.url, code: response.status) }
        if let header = response.headers.first(name: "docker-content-digest"), let digest = try? BlobDigest(parsing: header),
            let type = response.headers.first(name: "content-type")
        {
            return ResolvedManifest(digest: digest, mediaType: Self.bareMediaType(type))
        }
        let manifest = try await manifest(endpoint, repository: repository, reference: reference)
        return ResolvedManifest(digest: manifest.digest, mediaType: manifest.mediaType)
    }

    /// A manifest's exact bytes. By digest, the bytes must hash to it; by tag, their hash is the
    /// digest (and must match `Docker-Content-Digest` when the registry sends one).
    public struct FetchedManifest: Sendable {
        public let bytes: [UInt8]
        public let digest: BlobDigest
        public let mediaType: String
    }

    public func manifest(_ endpoint: RegistryEndpoint, repository: String, reference: String) async throws(UpstreamError) -> FetchedManifest {
        let response = try await send(endpoint, repository: repository, path: "manifests/\(reference)", headers: ["Accept": Self.manifestAccept])
        guard response.status == 200 else {
            _ = try? await response.collect(limit: 1 << 20)
            throw .status(url: response.url, code: response.status)
        }
        let bytes = Array(buffer: try await response.collect(limit: Int64(Manifest.maxSize)))
        let digest = BlobDigest.of(bytes)
        // A tag may be 64 hex digits (conda-oci-mirror names shards so): only `sha256:` is a digest.
        let byDigest = reference.hasPrefix("sha256:") ? try? BlobDigest(parsing: reference) : nil
        let claimed = byDigest ?? response.headers.first(name: "docker-content-digest").flatMap { try? BlobDigest(parsing: $0) }
        if let claimed, claimed != digest {
            throw .integrity(url: response.url, detail: "the manifest hashes to \(digest), not \(claimed)")
        }
        let parsed: Manifest
        do { parsed = try Manifest.parse(bytes, contentType: response.headers.first(name: "content-type")) } catch {
            throw .integrity(url: response.url, detail: "not a manifest hoard can serve: \(error)")
        }
        return FetchedManifest(bytes: bytes, digest: digest, mediaType: parsed.mediaType)
    }

    /// Starts a blob download; the caller streams (and verifies) the body.
    public func blob(_ endpoint: RegistryEndpoint, repository: String, digest: BlobDigest) async throws(UpstreamError) -> UpstreamResponse {
        let response = try await send(endpoint, repository: repository, path: "blobs/\(digest)")
        guard response.status == 200 else {
            _ = try? await response.collect(limit: 1 << 20)
            throw .status(url: response.url, code: response.status)
        }
        return response
    }

    /// `Retry-After` in seconds (an HTTP date or nothing counts as one second).
    static func retryAfter(_ value: String?) -> Duration {
        guard let value, let seconds = Int(value.trimmingCharacters(in: .whitespaces)), seconds >= 0 else { return .seconds(1) }
        return .seconds(seconds)
    }

    static func bareMediaType(_ contentType: String) -> String {
        String(contentType.prefix { $0 != ";" }).trimmingCharacters(in: .whitespaces)
    }
}
