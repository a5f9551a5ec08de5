import Hummingbird
import NIOCore

/// Hummingbird's basic context plus the peer's address, which the OCI front counts wrong
/// credentials against.
struct HoardRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?
    /// The token of a `/t/<TOKEN>/` path prefix, taken off the path before routing (TokenPrefix.swift).
    var channelToken: String? = nil

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address, or its path for a Unix socket; "unknown" when the channel has none.
    var clientAddress: String {
        guard let remoteAddress else { return "unknown" }
        return remoteAddress.ipAddress ?? remoteAddress.pathname ?? "unknown"
    }
}
