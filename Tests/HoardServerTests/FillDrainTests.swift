import Foundation
import HoardStore
import HoardUpstream
import Logging
import Synchronization
import Testing

/// A stopping server lets a fill whose bytes are verified finish its commit: its client may
/// already hold every byte and count on the store keeping the package (a restart with upstream
/// down must serve it).
@Suite struct FillDrainTests {
    @Test func finishWaitsForAVerifiedFillToNameItsBlob() async throws {
        let upstream = FakeCondaUpstream()
        let package = upstream.package("fx-lib-1.0-0.conda")
        try await upstream.run { base in
            let root = NSTemporaryDirectory() + "hoard-drain-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: root) }
            let logger = Logger(label: "test")
            let store = try await Store.open(root: root)
            let http = HTTPUpstream(timeout: .seconds(10), maxConcurrent: 4, logger: logger)
            let fetcher = Fetcher(store: store, upstream: http, logger: logger)
            let (gate, open) = AsyncStream<Void>.makeStream()
            let named = Mutex(false)
            let digest = try BlobDigest(parsing: package.sha256)
            let fill = fetcher.fill(
                key: "drain", lookup: { nil },
                source: { FillSource(url: base + "/noarch/fx-lib-1.0-0.conda", expectedDigest: digest) },
                onCommit: { _ in
                    // Naming the blob takes a while (a slow index write).
                    for await _ in gate { break }
                    named.withLock { $0 = true }
                })
            while !fill.isVerified {
                let (progress, version) = fill.progress()
                if case .failed(let error) = progress { throw error }
                if fill.isVerified { break }
                await fill.waitForChange(after: version)
            }
            let finishing = Task { () -> Bool in
                await fetcher.finish()
                return named.withLock { $0 }
            }
            open.yield()
            #expect(await finishing.value, "finish() returned before the verified fill named its blob")
            #expect(try await fill.result().digest == digest)
            try await http.shutdown()
        }
    }
}
