/// Where a request was routed; a failure is answered in the format of the front it happened in.
enum Front: String, Sendable {
    /// `/<channel>/…`: plain-text errors.
    case conda
    /// `/v2` and `/v2/…`: the distribution spec's JSON error body.
    case oci
    /// `/healthz`, `/token`, and what no front owns: plain text.
    case plain
}

/// A path whose first segment names no configured channel (nor any other front): hoard is not
/// an open proxy, so the answer lists what it serves.
struct UnknownChannel: Error, CustomStringConvertible {
    let name: Substring
    let served: [String]

    var description: String { "unknown channel '\(name)'; this hoard serves: \(served.sorted().joined(separator: ", "))" }
}

/// A method the resource does not allow (405 with `Allow`).
struct MethodNotAllowed: Error, CustomStringConvertible {
    let allow: String

    var description: String { "method not allowed; allowed: \(allow)" }
}

/// A method no route of hoard takes (501).
struct MethodNotImplemented: Error, CustomStringConvertible {
    let method: String

    var description: String { "method \(method) is not implemented by this server" }
}
