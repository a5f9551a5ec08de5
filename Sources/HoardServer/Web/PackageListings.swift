import HoardStore
import NIOPosix
import Synchronization

/// The listing of each subdir the page shows, built once per repodata snapshot from the record
/// map the package checks already keep (`PackageExpectations.records`). Only the most recently
/// used few are kept: a listing of a conda-forge subdir holds its ~500,000 records.
final class PackageListings: Sendable {
    let expectations: PackageExpectations
    let worker: NIOThreadPool
    static let kept = 4

    private struct Entry {
        let source: BlobDigest
        let listing: Task<PackageListing, any Error>
        var used: UInt64
    }

    private let entries = Mutex<(clock: UInt64, byKey: [DocumentKey: Entry])>((0, [:]))

    init(expectations: PackageExpectations, worker: NIOThreadPool) {
        self.expectations = expectations
        self.worker = worker
    }

    /// The listing of `snapshot` (the repodata.json hoard holds for `key`).
    func listing(_ key: DocumentKey, snapshot: DocumentSnapshot) async throws -> PackageListing {
        let source = snapshot.row.digest
        let task = entries.withLock { state in
            state.clock += 1
            if var current = state.byKey[key], current.source == source {
                current.used = state.clock
                state.byKey[key] = current
                return current.listing
            }
            let expectations = self.expectations
            let worker = self.worker
            let task = Task {
                let records = try await expectations.records(for: key, from: source)
                // Grouping and sorting half a million records is CPU work: the document pool.
                return try await worker.runIfActive { PackageListing(records: records) }
            }
            state.byKey[key] = Entry(source: source, listing: task, used: state.clock)
            while state.byKey.count > Self.kept, let oldest = state.byKey.min(by: { $0.value.used < $1.value.used })?.key {
                state.byKey.removeValue(forKey: oldest)
            }
            return task
        }
        do {
            return try await task.value
        } catch {
            // Not kept: the next request tries again (the blob may be back after a refetch).
            entries.withLock { state in
                if state.byKey[key]?.listing == task { state.byKey.removeValue(forKey: key) }
            }
            throw error
        }
    }
}
