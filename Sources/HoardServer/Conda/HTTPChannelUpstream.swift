import HoardConda
import HoardStore
import HoardUpstream

/// A conda channel served over HTTP (anaconda.org, prefix.dev, another hoard, a static server).
struct HTTPChannelUpstream: ChannelUpstream {
    /// The channel's base URL.
    let base: String
    let http: HTTPUpstream
    /// The channel's upstream credentials (config, URL token, RATTLER_AUTH_FILE, ~/.netrc).
    var auth: UpstreamAuth

    init(base: String, http: HTTPUpstream, auth: UpstreamAuth) {
        self.base = base
        self.http = http
        self.auth = auth
    }

    /// Asks for each variant of the document in turn (the one that answered last first), with
    /// validators when the copy hoard holds came from that variant.
    func fetchDocument(_ key: DocumentKey, current: DocumentSnapshot?) async throws -> DocumentFetch {
        var candidates = key.kind.upstreamFiles.map {
            (url: CondaChannel.url(base, label: key.label, subdir: key.subdir, file: $0.file), zstd: $0.zstd)
        }
        if let used = current?.row.upstreamURL, let index = candidates.firstIndex(where: { $0.url == used }) {
            candidates.insert(candidates.remove(at: index), at: 0)
        }
        var lastError: (any Error)?
        for candidate in candidates {
            var request = UpstreamRequest(url: candidate.url)
            let conditional = current != nil && current?.row.upstreamURL == candidate.url
            if conditional, let current {
                request.addValidators(etag: current.row.upstreamETag, lastModified: current.row.upstreamLastModified)
            }
            let (authorized, credentialSource) = auth.authorize(request)
            let response = try await http.send(authorized)
            switch response.status {
            case 200:
                return .body(response, source: candidate.url, zstd: candidate.zstd, digest: nil, validators: DocumentValidators(response))
            case 304 where conditional:
                try? await response.discardBody()
                return .notModified(DocumentValidators(response))
            case 401, 403:
                // Never a silent 404: the operator must learn the credentials are wrong or missing.
                try? await response.discardBody()
                throw auth.refusal(url: candidate.url, status: response.status, source: credentialSource)
            case 404, 410:
                try? await response.discardBody()
                lastError = UpstreamError.status(url: candidate.url, code: response.status)
            default:
                try? await response.discardBody()
                throw UpstreamError.status(url: candidate.url, code: response.status)
            }
        }
        throw lastError ?? UpstreamError.status(url: base, code: 404)
    }

    func packageSource(label: String, subdir: String, filename: CondaFilename, expected: PackageExpectations.Expectation?, baseURL: String?)
        -> FillSource
    {
        let url = baseURL.flatMap { DocumentCache.resolve(filename.rawValue, against: $0) }
            ?? CondaChannel.url(base, label: label, subdir: subdir, file: filename.rawValue)
        return FillSource(url: url, expectedDigest: expected?.digest, expectedSize: expected?.size, open: opener(url))
    }

    /// Opens a download with the credentials for its host; a 401/403 names the channel and the
    /// credential source.
    private func opener(_ url: String) -> @Sendable () async throws -> UpstreamResponse {
        { [http, auth] in
            let (request, source) = auth.authorize(UpstreamRequest(url: url))
            let response = try await http.send(request)
            switch response.status {
            case 200:
                return response
            case 401, 403:
                try? await response.discardBody()
                throw auth.refusal(url: url, status: response.status, source: source)
            default:
                try? await response.discardBody()
                throw UpstreamError.status(url: url, code: response.status)
            }
        }
    }

    func shardSource(label: String, subdir: String, hex: String, shardsDirectory: String?) throws -> FillSource {
        let index = CondaChannel.url(base, label: label, subdir: subdir, file: CondaRequestPath.shardIndexFilename)
        guard let shardsDirectory else {
            throw UpstreamError.integrity(url: index, detail: "the shard index's shards_base_url does not resolve to an http(s) URL")
        }
        let url = ShardLocation.shardURL(directory: shardsDirectory, hex: hex)
        return FillSource(url: url, expectedDigest: try BlobDigest(parsing: hex), open: opener(url))
    }
}
