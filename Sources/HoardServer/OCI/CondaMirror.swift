import HoardConda
import HoardCondaOCI
import HoardOCI
import HoardStore
import HoardUpstream
import Hummingbird

/// Every channel of the conda front as a read-only OCI conda mirror under `<namespace>/`, in the
/// channel-mirrors layout that mamba's and rattler's `oci://` mirrors read (wire contract §1-3).
/// Nothing is stored for it: manifests are synthesized from the repodata snapshot the conda
/// front serves, and blobs are that front's repodata and packages (pulled through on a miss).
struct CondaMirror: Sendable {
    let namespace: String
    let conda: CondaFront
    let catalogs: CondaMirrorCatalogs
    let manifests: CondaMirrorManifestCache
    /// The packages' info layers, made once from the archives and kept in the store.
    let info: InfoLayerStore

    init(namespace: String, conda: CondaFront) throws(CondaMirrorError) {
        do {
            _ = try RepositoryName(namespace)
        } catch {
            throw .invalidNamespace(namespace, reason: error.message)
        }
        self.namespace = namespace
        self.conda = conda
        catalogs = CondaMirrorCatalogs(expectations: conda.expectations)
        manifests = CondaMirrorManifestCache()
        // Extraction blocks: the document pool, as repodata parsing does.
        info = InfoLayerStore(store: conda.store, worker: conda.expectations.worker)
    }

    /// The refusal of a write to a repository under the namespace, checked before credentials:
    /// no user may push there, so asking for credentials would mislead.
    func refusal(of route: OCIRoute) -> OCIError? {
        guard let name = route.repository, CondaMirrorPath.parse(name, namespace: namespace) != nil,
            route.requiredAction != "pull"
        else { return nil }
        return OCIError(
            .denied,
            "\(name) is hoard's read-only OCI mirror of a conda channel (everything under \"\(namespace)/\" is); push to a repository outside it",
            status: 403)
    }

    /// The answer for a read of a repository under the namespace; nil otherwise (the
    /// pushed-content registry answers it).
    func respond(to route: OCIRoute, request: Request) async throws -> Response? {
        guard let name = route.repository, let parsed = CondaMirrorPath.parse(name, namespace: namespace) else { return nil }
        switch route {
        case .getManifest, .getBlob, .listTags: break
        // Nothing refers to synthesized manifests: the registry's empty referrers index is right.
        default: return nil
        }
        let path: CondaMirrorPath
        switch parsed {
        case .path(let p): path = p
        case .invalid(let reason): throw OCIError(.nameUnknown, "\(name): \(reason)")
        }
        guard let channel = conda.channels[path.channel] else {
            throw OCIError(
                .nameUnknown,
                "\(name): no conda channel \"\(path.channel)\"; this hoard mirrors: \(conda.channels.keys.sorted().joined(separator: ", "))")
        }
        let subdir = CondaMirrorSubdir(mirror: self, channel: channel, path: path, repository: name)
        do {
            switch route {
            case .getManifest(_, let reference, let head): return try await subdir.manifest(reference, head: head)
            case .listTags(_, let page): return try await subdir.tags(page)
            case .getBlob(_, let digest, let head): return try await subdir.blob(digest, head: head, request: request)
            default: return nil
            }
        } catch let error as UpstreamError {
            throw Self.ociError(error, repository: name)
        }
    }

    /// Upstream trouble as the OCI client should see it: 404s stay 404s (clients fall back on
    /// them), everything else is a gateway error.
    static func ociError(_ error: UpstreamError, repository: RepositoryName) -> OCIError {
        if error.isNotFound { return OCIError(.nameUnknown, "\(repository): not found upstream (\(error))") }
        return OCIError(.unsupported, "\(repository): upstream failed and nothing is cached: \(error)", status: error.isTimeout ? 504 : 502)
    }
}
