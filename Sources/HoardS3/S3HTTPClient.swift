import AsyncHTTPClient
import NIOCore

extension S3Client {
    /// The configuration for the HTTPClient that S3 clients share (one per process, built by
    /// the caller and given to every `S3Client`):
    /// - a failed connection fails the request at once (AsyncHTTPClient otherwise retries the
    ///   connection until the request's deadline, so a stopped bucket would hold every request
    ///   for a whole timeout before the node can answer 503);
    /// - no redirects (a redirected request would carry a signature for another host), no
    ///   decompression (bytes are stored as sent), HTTP/1.1;
    /// - up to `maxConnections` connections to the endpoint (AsyncHTTPClient's default of 8
    ///   would queue a busy node's blob reads behind each other).
    public static func httpClientConfiguration(maxConnections: Int = 64, connectTimeout: TimeAmount = .seconds(5),
                                               readTimeout: TimeAmount = .seconds(60)) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: connectTimeout, read: readTimeout)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, maxConnections))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        configuration.httpVersion = .http1Only
        return configuration
    }
}
