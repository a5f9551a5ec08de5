import Foundation
import HoardOCI
import HoardStore
import Hummingbird

/// `tags/list`, `_catalog` and the referrers API.
struct OCIListingRoutes {
    let store: Store

    func tags(_ repository: RepositoryName, _ page: PageRequest) async throws -> Response {
        guard let all = try await store.index.ociTags(repository: repository.value) else {
            throw OCIError(.nameUnknown, "repository \(repository) is unknown")
        }
        let (items, hasMore) = page.page(of: all)
        var headers: HTTPFields = [:]
        if hasMore, let last = items.last {
            headers[.link] = PaginationLink.tags(repository: repository, limit: page.effectiveLimit(), last: last)
        }
        return try json(TagList(name: repository.value, tags: items), headers: headers)
    }

    func catalog(_ page: PageRequest) async throws -> Response {
        let (items, hasMore) = page.page(of: try await store.index.ociRepositories())
        var headers: HTTPFields = [:]
        if hasMore, let last = items.last {
            headers[.link] = PaginationLink.catalog(limit: page.effectiveLimit(), last: last)
        }
        return try json(Catalog(repositories: items), headers: headers)
    }

    /// Never a 404: no referrers is an empty index (clients would otherwise fall back to tags).
    func referrers(_ repository: RepositoryName, _ digest: OCIDigest, artifactType: String?) async throws -> Response {
        var descriptors: [OCIDescriptor] = []
        for record in try await store.index.ociReferrers(repository: repository.value, subject: digest.description) {
            guard let reader = try? await store.open(record.digest), let bytes = try? await reader.readAll(limit: Int64(Manifest.maxSize)),
                let manifest = try? Manifest.parse(bytes, contentType: record.mediaType)
            else { continue }
            var descriptor = ReferrersIndex.descriptor(for: manifest)
            if let pushed = record.pushedDigest, let d = try? OCIDigest(parsing: pushed) { descriptor.digest = d }
            descriptors.append(descriptor)
        }
        let result = ReferrersIndex.build(referrers: descriptors, artifactType: artifactType)
        var headers: HTTPFields = [:]
        if result.filtersApplied { headers[.ociFiltersApplied] = "artifactType" }
        return .bytes(.ok, result.bytes, contentType: ReferrersIndex.mediaType, headers: headers)
    }

    private struct TagList: Encodable {
        let name: String
        let tags: [String]
    }

    private struct Catalog: Encodable {
        let repositories: [String]
    }

    private func json(_ value: some Encodable, headers: HTTPFields) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return .bytes(.ok, Array(try encoder.encode(value)), contentType: "application/json", headers: headers)
    }
}
