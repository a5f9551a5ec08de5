import HoardConda
import HoardOCI
import HoardStore
import HoardUpstream
import Hummingbird
import Logging

/// The one place a thrown error becomes a response: the status for each error, in the body
/// format of the front it was thrown in (text for conda and the plain routes, the distribution
/// spec's JSON for OCI). Failures that are hoard's or upstream's, not the client's, are logged.
enum ErrorResponses {
    static func response(for error: any Error, front: Front, path: String, logger: Logger) -> Response {
        switch front {
        case .oci: oci(error, path: path, logger: logger)
        case .conda, .plain: text(error, path: path, logger: logger)
        }
    }

    // MARK: Text (conda, /healthz, /token, unknown paths)

    static func text(_ error: any Error, path: String, logger: Logger) -> Response {
        switch error {
        case let error as CondaPathError:
            return .text(error.isMalformed ? .badRequest : .notFound, "\(error)\n")
        case let error as CondaNameError:
            return .text(.notFound, "\(error)\n")
        case let error as UnknownChannel:
            return .text(.notFound, "\(error)\n")
        case let error as OfflineMiss:
            return .text(.notFound, "\(error)\n")
        case let error as MethodNotAllowed:
            return .text(.methodNotAllowed, "\(error)\n", headers: [.allow: error.allow])
        case let error as MethodNotImplemented:
            return .text(.notImplemented, "\(error)\n")
        case let error as PackageExpectations.Unavailable:
            logger.error("refused a package that cannot be verified", metadata: ["path": "\(path)", "error": "\(error)"])
            return .text(.serviceUnavailable, "cannot verify this package: \(error)\n")
        case let error as UpstreamError:
            if error.isNotFound { return .text(.notFound, "not found upstream: \(error)\n") }
            logger.warning("upstream failed with nothing cached", metadata: ["path": "\(path)", "error": "\(error)"])
            return .text(error.isTimeout ? .gatewayTimeout : .badGateway, "\(error)\n")
        case StoreError.unavailable:
            // The bucket is down or failing: nothing was changed, and the same request works once
            // it is back (the node needs no restart), so clients are told when to retry.
            logger.warning("storage unavailable", metadata: ["path": "\(path)", "error": "\(error)"])
            return .text(.serviceUnavailable, "hoard cannot reach its storage right now; retry in \(StorageUnavailable.retryAfterSeconds) s: \(error)\n",
                         headers: [.retryAfter: String(StorageUnavailable.retryAfterSeconds)])
        case StoreError.diskFull:
            // Not the client's fault and not permanent: 503, so clients retry once space is freed.
            logger.error("cache disk full; pull-through refused", metadata: ["path": "\(path)", "error": "\(error)"])
            return .text(.serviceUnavailable, "hoard's cache disk is full, so this could not be pulled through (cached content is still served): \(error)\n")
        case let error as HTTPError:
            return .text(error.status, (error.body ?? error.status.reasonPhrase) + "\n", headers: error.headers)
        default:
            logger.error("request failed", metadata: ["path": "\(path)", "error": "\(error)"])
            return .text(.internalServerError, "internal error: \(error)\n")
        }
    }

    // MARK: OCI

    static func oci(_ error: any Error, path: String, logger: Logger) -> Response {
        switch error {
        case let failure as OCIAuthFailure:
            var headers: HTTPFields = [:]
            if let challenge = failure.challenge { headers[.wwwAuthenticate] = challenge }
            if let retryAfter = failure.retryAfter { headers[.retryAfter] = String(retryAfter) }
            return .oci(failure.error, headers: headers)
        case let error as OCIRouteError:
            var headers: HTTPFields = [:]
            if let allow = error.allowHeader { headers[.allow] = allow }
            return .oci(error.ociError, headers: headers)
        case let error as OCIError:
            // A 503 is always the storage being unreachable (`ociError(.unavailable)`): say when to retry.
            return .oci(error, headers: error.status == 503 ? [.retryAfter: String(StorageUnavailable.retryAfterSeconds)] : [:])
        case let error as OfflineMiss:
            return .oci(OCIError(.blobUnknown, "\(error)"))
        case let error as OCIResponseError:
            return .oci(error.error, headers: error.headers)
        case let error as StoreError:
            if case .unavailable = error {
                logger.warning("storage unavailable", metadata: ["path": "\(path)", "error": "\(error)"])
                return .oci(ociError(error), headers: [.retryAfter: String(StorageUnavailable.retryAfterSeconds)])
            }
            return .oci(ociError(error))
        case let error as UpstreamError:
            // Routes that know what was missing throw their own code (MANIFEST_UNKNOWN, ...).
            if error.isNotFound { return .oci(OCIError(.nameUnknown, "not found upstream: \(error)")) }
            logger.warning("upstream failed with nothing cached", metadata: ["path": "\(path)", "error": "\(error)"])
            return .oci(OCIError(.unsupported, "\(error)", status: error.isTimeout ? 504 : 502))
        default:
            logger.error("OCI request failed", metadata: ["path": "\(path)", "error": "\(error)"])
            return .oci(OCIError(.unsupported, "internal error: \(error)", status: 500))
        }
    }

    /// A store failure as the distribution spec names it.
    static func ociError(_ error: StoreError) -> OCIError {
        switch error {
        case .digestMismatch(let expected, let actual):
            OCIError(.digestInvalid, "the uploaded bytes hash to \(actual), not \(expected); nothing was stored")
        case .sizeMismatch:
            OCIError(.sizeInvalid, error.description)
        case .invalidDigest:
            OCIError(.digestInvalid, error.description)
        case .blobNotFound:
            OCIError(.blobUnknown, error.description)
        case .diskFull:
            OCIError(.unsupported, error.description, status: 507)
        case .unavailable:
            // The spec has no code for "try again later"; the status and Retry-After say it.
            OCIError(.unsupported, "hoard cannot reach its storage right now; retry in \(StorageUnavailable.retryAfterSeconds) s: \(error)", status: 503)
        default:
            OCIError(.unsupported, error.description, status: 500)
        }
    }
}

/// What a client is told while the store's backend (an S3 bucket) is unreachable.
enum StorageUnavailable {
    /// `Retry-After` of a 503 for `StoreError.unavailable`: the nodes try the bucket again on the
    /// next request, so a short wait is enough.
    static let retryAfterSeconds = 5
}

/// Answers every error thrown inside it, in its front's format: nothing reaches Hummingbird's
/// own error answers (whose bodies do not follow either front's format).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let front: Front
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return ErrorResponses.response(for: error, front: front, path: request.uri.path, logger: logger)
        }
    }
}
