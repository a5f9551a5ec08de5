import Foundation
import Synchronization

/// Collects blob reads in memory and writes them to the index in batches, so that serving a
/// file never waits on an SQLite write.
final class AccessRecorder: Sendable {
    private let pending = Mutex<[BlobDigest: Double]>([:])

    func record(_ digest: BlobDigest, at time: Double = Date().timeIntervalSince1970) {
        pending.withLock { $0[digest] = time }
    }

    /// Hands over what was collected since the last call.
    func drain() -> [BlobDigest: Double] {
        pending.withLock { times in
            defer { times.removeAll(keepingCapacity: true) }
            return times
        }
    }
}
