import AsyncHTTPClient
import HoardConfig
import HoardS3
import HoardStore
import Logging
import NIOCore

/// A store's backend in an S3 bucket (`--storage s3://…`): the client every part of it uses,
/// its blobs and the objects the nodes share. Built the same way for every command that opens
/// a store (`CommonOptions.openStore`).
struct S3Backend {
    let client: S3Client

    init(_ setting: StorageSetting, logger: Logger) throws {
        let location: S3Location
        do {
            location = try S3Location(
                bucket: setting.bucket, prefix: setting.prefix, endpoint: setting.endpoint, region: setting.region,
                pathStyle: setting.pathStyle)
        } catch {
            throw S3BackendError.location(setting.url, error)
        }
        let credentials: S3Credentials
        do { credentials = try S3Credentials.resolve() } catch { throw S3BackendError.credentials(error) }
        var logger = logger
        logger[metadataKey: "storage"] = "\(setting.url)"
        // The HTTP client logs a line per request at debug: only --log-level trace asks for that.
        if logger.logLevel == .debug { logger.logLevel = .info }
        client = S3Client(location: location, credentials: credentials, httpClient: S3Transport.client, logger: logger, timeout: S3Transport.answerTimeout)
    }

    var sharedObjects: S3SharedObjects { S3SharedObjects(client: client) }

    /// The blobs, with the node's spool (ingests in progress, read back by their tail readers)
    /// under the root's `tmp/s3-spool` and its copies of blobs under `s3-cache` (none when
    /// `localCache` is zero).
    func blobStore(root: String, localCache: ByteSize, logger: Logger) -> S3BlobStore {
        let layout = StoreLayout(root: root)
        let cache = localCache.bytes > 0 ? LocalBlobCache(path: layout.localCacheDirectory, limit: localCache.bytes) : nil
        return S3BlobStore(client: client, spoolDirectory: layout.tempDirectory + "/s3-spool", cache: cache, logger: logger)
    }
}

/// The HTTP client of every S3 request in this process. It lives as long as the process (a
/// command ends by exiting), so it is never shut down; made on first use, only with a bucket.
enum S3Transport {
    /// Until an answer's head arrives: a bucket that stops answering fails a request (503) in
    /// bounded time instead of holding it.
    static let answerTimeout = TimeAmount.seconds(30)

    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            // A redirect from S3 is an error to report, never a place to send signed requests.
            redirectConfiguration: .disallow,
            // Connect: a stopped bucket is refused at once; a black-holed one costs 5 s, not the
            // request's whole answer time-out. Read: a body that stalls this long fails.
            timeout: .init(connect: .seconds(5), read: .seconds(30)),
            connectionPool: .init(idleTimeout: .seconds(60))
        )
        // Objects are stored as sent: a Content-Encoding must not be undone on the way back.
        configuration.decompression = .disabled
        // Every client request of a busy node goes to the one bucket host: the default of 8
        // connections would queue them behind each other.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}

/// Why the bucket cannot be used, before any request is made.
enum S3BackendError: Error, CustomStringConvertible {
    case location(String, S3Error)
    case credentials(S3Error)

    var description: String {
        switch self {
        case .location(let url, let error): "--storage \(url): \(error)"
        case .credentials(let error): "--storage: \(error)"
        }
    }
}
