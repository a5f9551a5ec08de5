import Foundation
import HoardConda
import HoardOCI
import HoardStore
import HoardUpstream
import Logging
import NIOCore

/// Fills the store ahead of time (`hoard mirror`) through the parts `serve` pulls through with:
/// the same channel upstreams, document cache, package expectations and single-flight fetcher,
/// so a mirrored file is stored, named and verified exactly as a served miss would be.
public struct ChannelFiller: Sendable {
    let channels: [String: CondaChannel]
    let store: Store
    let documents: DocumentCache
    let expectations: PackageExpectations
    let fetcher: Fetcher
    let upstreams: [String: any ChannelUpstream]
    let logger: Logger

    /// The channels this filler knows, by name.
    public var configuredChannels: [CondaChannel] { Array(channels.values) }

    /// What a package fill found.
    public enum Outcome: Sendable, Equatable {
        /// Already in the store under this name (nothing fetched).
        case present(size: Int64)
        /// Downloaded now, verified and stored.
        case fetched(size: Int64)
    }

    /// A subdir's repodata.json as hoard serves it, revalidated with upstream first when the copy
    /// held is no longer fresh (and fetched when there is none). Stored like a served one.
    public func repodata(channel name: String, label: String = "", subdir: String) async throws -> ByteBuffer {
        let snapshot = try await documents.currentSnapshot(repodataKey(name, label, subdir), channel: try channel(name))
        if let memory = snapshot.served.memory { return memory }
        return try await store.open(snapshot.served.digest).readBuffer()
    }

    /// The digests of every file the subdir's repodata.json lists (md5 included), by filename.
    public func digests(channel name: String, label: String = "", subdir: String) async throws -> [String: PackageDigest] {
        let key = repodataKey(name, label, subdir)
        let snapshot = try await documents.currentSnapshot(key, channel: try channel(name))
        return try await expectations.records(for: key, from: snapshot.row.digest)
    }

    /// Makes sure the store holds `filename` of the channel's subdir: present already, or pulled
    /// through now. `expected` (a lock file's sha256) overrides what the repodata says: bytes
    /// that hash otherwise are refused and nothing is stored.
    public func package(channel name: String, label: String = "", subdir: String, filename: CondaFilename, expected: BlobDigest?) async throws -> Outcome {
        let channel = try self.channel(name)
        let key = CondaFileKey(channel: name, label: label, subdir: subdir, filename: filename.rawValue)
        let store = self.store
        @Sendable func stored() async throws -> BlobRecord? {
            guard let digest = try await store.index.condaFile(key) else { return nil }
            return try await store.existingBlob(digest)
        }
        if let record = try await stored() {
            if let expected, expected != record.digest {
                throw ChannelFillError.storedCopyDiffers(file: "\(name)/\(subdir)/\(filename)", stored: record.digest, expected: expected)
            }
            return .present(size: record.size)
        }
        if let expected, let record = try await store.existingBlob(expected) {
            // The same bytes are stored already (another channel, or a name lost): name them.
            try await store.index.setCondaFile(key, digest: expected)
            return .present(size: record.size)
        }
        let fill = fetcher.fill(
            key: "conda:\(name)/\(label)/\(subdir)/\(filename.rawValue)", lookup: stored,
            source: { [self] in try await source(channel: channel, label: label, subdir: subdir, filename: filename, expected: expected) },
            onCommit: { record in try await store.index.setCondaFile(key, digest: record.digest) })
        do {
            return .fetched(size: try await fill.result().size)
        } catch UpstreamError.integrity(let url, let detail) {
            guard let expected else { throw UpstreamError.integrity(url: url, detail: detail) }
            throw ChannelFillError.lockDigestMismatch(url: url, expected: expected, detail: detail)
        }
    }

    /// Where to download a package and what it must hash to, as the conda front decides it.
    private func source(channel: CondaChannel, label: String, subdir: String, filename: CondaFilename, expected: BlobDigest?) async throws -> FillSource {
        let key = repodataKey(channel.name, label, subdir)
        var expectation = expected.map { PackageExpectations.Expectation(digest: $0, size: nil) }
        if expectation == nil {
            expectation = try await expectations.expectation(channel: channel.name, label: label, subdir: subdir, filename: filename)
        }
        if expectation == nil, (try? await documents.currentSnapshot(key, channel: channel)) != nil {
            expectation = try await expectations.expectation(channel: channel.name, label: label, subdir: subdir, filename: filename)
        }
        guard let upstream = upstreams[channel.name] else { throw UpstreamError.status(url: channel.upstream, code: 404) }
        let repodata = try? await documents.cached(key)
        var source = upstream.packageSource(
            label: label, subdir: subdir, filename: filename, expected: expectation, baseURL: repodata?.row.upstreamBaseURL)
        if expectation == nil { source.signature = filename.format == .conda ? .zip : .bzip2 }
        return source
    }

    private func channel(_ name: String) throws(ChannelFillError) -> CondaChannel {
        guard let channel = channels[name] else { throw .unknownChannel(name, configured: channels.keys.sorted()) }
        return channel
    }

    private func repodataKey(_ channel: String, _ label: String, _ subdir: String) -> DocumentKey {
        DocumentKey(channel: channel, label: label, subdir: subdir, kind: .repodata)
    }
}

/// Why a fill could not be done, with what to do about it.
public enum ChannelFillError: Error, Sendable, CustomStringConvertible {
    case unknownChannel(String, configured: [String])
    case storedCopyDiffers(file: String, stored: BlobDigest, expected: BlobDigest)
    case lockDigestMismatch(url: String, expected: BlobDigest, detail: String)

    public var description: String {
        switch self {
        case .unknownChannel(let name, let configured):
            "no channel \(name) is configured (configured: \(configured.joined(separator: ", "))); add it with --upstream \(name)=URL or [channels] in the config"
        case .storedCopyDiffers(let file, let stored, let expected):
            "\(file): the store holds \(stored) under this name, the lock file expects \(expected); the lock file is out of date with the channel, or the channel changed the file"
        case .lockDigestMismatch(let url, let expected, let detail):
            "digest mismatch: the lock file expects sha256 \(expected.hex), \(url) sent other bytes (\(detail)); nothing was stored"
        }
    }
}

extension HoardApplication {
    /// A filler over this application's upstream client and document worker, wired as
    /// `makeApplication` wires the conda front.
    public func channelFiller() throws -> ChannelFiller {
        let settings = server.settings
        let store = server.store
        let (_, upstreams) = try upstreamClients(channels: settings.channels)
        let documents = DocumentCache(
            store: store, upstreams: upstreams,
            builder: DocumentBuilder(store: store, worker: worker, timeout: settings.upstreamTimeout, maxDocumentSize: settings.maxDocumentSize),
            configuredTTL: settings.repodataTTL, logger: server.logger)
        return ChannelFiller(
            channels: Dictionary(settings.channels.map { ($0.name, $0) }) { $1 },
            store: store, documents: documents,
            expectations: PackageExpectations(store: store, documents: documents, worker: worker),
            fetcher: Fetcher(store: store, upstream: upstream, logger: server.logger),
            upstreams: upstreams, logger: server.logger)
    }
}
