import HoardUpstream

/// What hoard answers (404) when it serves offline (`--offline`) and the store does not hold
/// what was asked: nothing is fetched from upstream, so the client hears "not found", never a
/// download error it might retry.
struct OfflineMiss: Error, CustomStringConvertible {
    /// What was asked for, e.g. `fixture/noarch/fx-lib-1.0-0.conda`.
    let what: String
    var reason = "is not in hoard's store"

    var description: String {
        "\(what) \(reason), and hoard serves offline (--offline): nothing is fetched from upstream"
    }

    /// Whether `error` says a document or file does not exist (upstream's not-found, remembered
    /// or just received, or an offline miss), as opposed to a failure.
    static func isNotFound(_ error: any Error) -> Bool {
        error is OfflineMiss || (error as? UpstreamError)?.isNotFound == true
    }
}
