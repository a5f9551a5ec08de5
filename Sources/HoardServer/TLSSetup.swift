import Hummingbird
import HummingbirdCore
import HummingbirdTLS

/// Plain HTTP/1.1, or HTTPS with a PEM certificate chain and key (both fronts alike); with
/// `fastPath`, every connection gets a `FastPathHandler` ahead of Hummingbird's request handling.
enum TLSSetup {
    static func serverBuilder(_ files: TLSFiles?, fastPath: FastPathHandler.Shared? = nil) throws -> HTTPServerBuilder {
        let http1: HTTPServerBuilder
        if let fastPath {
            http1 = .http1(configuration: .init(additionalChannelHandlers: [FastPathHandler(fastPath)]))
        } else {
            http1 = .http1()
        }
        guard let files else { return http1 }
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificatePath)
        } catch {
            throw TLSSetupError("cannot read the TLS certificate chain \(files.certificatePath): \(error)")
        }
        do {
            key = try NIOSSLPrivateKey(file: files.privateKeyPath, format: .pem)
        } catch {
            throw TLSSetupError("cannot read the TLS private key \(files.privateKeyPath): \(error)")
        }
        guard !chain.isEmpty else { throw TLSSetupError("\(files.certificatePath) holds no PEM certificate") }
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        return try .tls(http1, tlsConfiguration: configuration)
    }
}

public struct TLSSetupError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
