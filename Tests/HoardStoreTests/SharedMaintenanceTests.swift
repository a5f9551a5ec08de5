import Foundation
import HoardS3
import HoardS3TestSupport
import Synchronization
import Testing

@testable import HoardStore

/// Eviction and garbage collection with two nodes on one bucket: two `Store`s (each its own root
/// and SQLite index) over one `MemoryBlobStore` and one `MemorySharedObjects`.
@Suite struct SharedMaintenanceTests {
    final class Nodes: Sendable {
        let blobs = MemoryBlobStore()
        let objects: RecordingSharedObjects
        let a: SharedMaintenance
        let b: SharedMaintenance
        private let root: String

        var storeA: Store { a.store }
        var storeB: Store { b.store }
        var shared: SharedIndex { SharedIndex(objects: objects) }

        init() async throws {
            root = NSTemporaryDirectory() + "hoard-shared-gc-" + UUID().uuidString
            objects = RecordingSharedObjects(blobs: blobs)
            let shared = SharedIndex(objects: objects)
            let storeA = try await Store.open(root: root + "/a", blobs: blobs, shared: objects)
            let storeB = try await Store.open(root: root + "/b", blobs: blobs, shared: objects)
            a = try #require(try SharedMaintenance.make(for: storeA, interval: .seconds(30)))
            b = try #require(try SharedMaintenance.make(for: storeB, interval: .seconds(30)))
            _ = shared
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        // Names written as the conda and OCI sides of the shared index write them (through
        // node A's index: the shared record, then A's row).

        /// A conda file name.
        @discardableResult
        func condaName(_ digest: BlobDigest, _ filename: String) async throws -> SharedKey {
            let key = CondaFileKey(channel: "conda-forge", subdir: "noarch", filename: filename)
            try await storeA.index.setCondaFile(key, digest: digest)
            return SharedIndex.condaKey(key)
        }

        /// A blob pushed into an OCI repository (pinned).
        @discardableResult
        func pushedBlob(_ digest: BlobDigest, size: Int64) async throws -> SharedKey {
            try await storeA.index.ociAddBlob(repository: "team/app", digest: digest)
            return SharedIndex.ociBlobKey("team/app", digest)
        }

        /// The current repodata of a subdir (its blobs are never evicted), as its record holds it.
        @discardableResult
        func document(_ digest: BlobDigest) async throws -> SharedKey {
            let key = SharedIndex.documentKey(channel: "conda-forge", label: "", subdir: "noarch", name: "repodata.json")
            try await shared.write(["snapshot": ["digest": digest.description, "upstreamETag": "\"abc\""]], at: key)
            return key
        }

        func exists(_ key: SharedKey) async throws -> Bool {
            try await objects.get(key) != nil
        }
    }

    // MARK: The lease

    @Test func onlyOneNodeHoldsTheLeaseUntilItIsReleased() async throws {
        let nodes = try await Nodes()
        guard case .held = try await nodes.a.lease.acquire() else { Issue.record("A could not take a free lease"); return }
        guard case .heldByOther(let holder) = try await nodes.b.lease.acquire() else {
            Issue.record("B took a lease A holds")
            return
        }
        #expect(holder.node == nodes.a.node.id && holder.pid == nodes.a.node.pid)
        // The holder renews it; the other still cannot take it.
        guard case .held = try await nodes.a.lease.acquire() else { Issue.record("A could not renew its lease"); return }
        guard case .heldByOther = try await nodes.b.lease.acquire() else { Issue.record("B took a renewed lease"); return }
        // Released: B takes it at once, and A no longer holds it.
        try await nodes.a.lease.release()
        #expect(!(await nodes.a.lease.isHeld))
        guard case .held = try await nodes.b.lease.acquire() else { Issue.record("B could not take a released lease"); return }
        guard case .heldByOther = try await nodes.a.lease.acquire() else { Issue.record("A took B's lease"); return }
    }

    @Test func twoNodesTakingAFreeLeaseAtOnceGetOneHolder() async throws {
        for _ in 0..<20 {
            let nodes = try await Nodes()
            async let first = nodes.a.lease.acquire()
            async let second = nodes.b.lease.acquire()
            let states = try await [first, second]
            #expect(states.filter { if case .held = $0 { true } else { false } }.count == 1)
        }
    }

    @Test func anExpiredLeaseIsTakenOverAndItsOldHolderKnowsIt() async throws {
        let nodes = try await Nodes()
        let now = Date()
        guard case .held(let expires) = try await nodes.a.lease.acquire(now: now) else { Issue.record("A could not take a free lease"); return }
        #expect(expires == now.timeIntervalSince1970 + 300)
        guard case .heldByOther = try await nodes.b.lease.acquire(now: now.addingTimeInterval(299)) else {
            Issue.record("B took a lease before it expired")
            return
        }
        // A stopped renewing (it died): once expired, B takes it over.
        guard case .held = try await nodes.b.lease.acquire(now: now.addingTimeInterval(301)) else {
            Issue.record("B could not take over an expired lease")
            return
        }
        #expect(!(await nodes.a.lease.renew(now: now.addingTimeInterval(302))))
        // A's release does not take the lease from B.
        try await nodes.a.lease.release()
        guard case .heldByOther(let holder) = try await nodes.a.lease.acquire(now: now.addingTimeInterval(303)) else {
            Issue.record("A took B's lease back")
            return
        }
        #expect(holder.node == nodes.b.node.id)
    }

    @Test func aNodeKeepsItsIdentityAcrossRestarts() async throws {
        let nodes = try await Nodes()
        let again = try NodeIdentity.load(nodes.storeA.layout)
        #expect(again.id == nodes.a.node.id)
        #expect(nodes.a.node.id != nodes.b.node.id)
    }

    // MARK: Eviction

    @Test func evictionRemovesNamesBeforeBlobsAndKeepsPinnedDocumentAndServedBlobs() async throws {
        let nodes = try await Nodes()
        let store = nodes.storeA
        let old = try await store.ingest(bytes: randomBytes(1000))
        let pinned = try await store.ingest(bytes: randomBytes(1000))
        let document = try await store.ingest(bytes: randomBytes(1000))
        let served = try await store.ingest(bytes: randomBytes(1000))
        let oldName = try await nodes.condaName(old.digest, "old-1.0-0.conda")
        let servedName = try await nodes.condaName(served.digest, "served-1.0-0.conda")
        let pinnedName = try await nodes.pushedBlob(pinned.digest, size: 1000)
        let documentName = try await nodes.document(document.digest)
        // The served blob is the least recently used: it would go first.
        let t = Date().timeIntervalSince1970 + 1000
        try await store.index.recordAccess([served.digest: t + 1, old.digest: t + 2, pinned.digest: t + 3, document.digest: t + 4])
        var reader: (any BlobReader)? = try await store.open(served.digest)
        try await store.flushAccessTimes()
        try await store.index.recordAccess([served.digest: t + 1])

        let first = try await nodes.a.evictor(limit: ByteSize(bytes: 0)).run()
        #expect(first.removedBlobs == 1 && first.removedBytes == 1000)
        #expect(first.remainingBlobs == 3 && first.remainingBytes == 3000)
        #expect(try await nodes.blobs.size(of: old.digest) == nil)
        #expect(try await !nodes.exists(oldName))
        for kept in [pinned, document, served] { #expect(try await nodes.blobs.size(of: kept.digest) == 1000) }
        for kept in [pinnedName, documentName, servedName] { #expect(try await nodes.exists(kept)) }
        #expect(try await store.index.blob(old.digest) == nil)

        // Served no more: its name goes, then the blob.
        reader = nil
        let second = try await nodes.a.evictor(limit: ByteSize(bytes: 0)).run()
        #expect(second.removedBlobs == 1)
        #expect(try await nodes.blobs.size(of: served.digest) == nil)
        #expect(try await !nodes.exists(servedName))
        #expect(try await nodes.exists(pinnedName))
        #expect(try await nodes.exists(documentName))

        // Every name was removed while its blob was still there.
        let deletes = nodes.objects.deletes
        #expect(deletes.map(\.key) == [oldName, servedName])
        #expect(deletes.allSatisfy { $0.blobsPresent })
        _ = reader
    }

    @Test func aNameMovedToAnotherBlobSinceTheScanIsKept() async throws {
        let nodes = try await Nodes()
        let victim = try await nodes.storeA.ingest(bytes: randomBytes(100))
        let other = try await nodes.storeA.ingest(bytes: randomBytes(100))
        let name = try await nodes.condaName(victim.digest, "pkg-1.0-0.conda")
        let t = Date().timeIntervalSince1970 + 1000
        try await nodes.storeA.index.recordAccess([victim.digest: t, other.digest: t + 1])
        // The scan sees the name on the victim; then another node points it elsewhere.
        _ = try await nodes.a.names.scan()
        nodes.objects.moveBeforeRead = (name, other.digest)
        let report = try await nodes.a.evictor(limit: ByteSize(bytes: 100)).run()
        // Our own reads below must not move it.
        nodes.objects.moveBeforeRead = nil
        #expect(report.removedBlobs == 1)
        #expect(try await nodes.blobs.size(of: victim.digest) == nil)
        #expect(try await nodes.exists(name))
        #expect(try await nodes.shared.read(SharedCondaFile.self, at: name)?.value.digest == other.digest.hex)
    }

    @Test func accessesPublishedByBProtectABlobFromEvictionOnA() async throws {
        let nodes = try await Nodes()
        let bytes = randomBytes(1000)
        let readOnB = try await nodes.storeA.ingest(bytes: bytes)
        let readOnA = try await nodes.storeA.ingest(bytes: randomBytes(1000))
        try await nodes.condaName(readOnB.digest, "b-1.0-0.conda")
        try await nodes.condaName(readOnA.digest, "a-1.0-0.conda")
        let now = Date().timeIntervalSince1970
        // On A alone, `readOnB` is the least recently used (A last saw it at its commit).
        try await nodes.storeA.index.recordAccess([readOnA.digest: now + 500])
        // B serves it (its row adopted from the bucket), later than A's read.
        _ = try await nodes.storeB.ingest(bytes: bytes)
        try await nodes.storeB.index.recordAccess([readOnB.digest: now + 1000])
        try await nodes.b.accesses.publish()
        #expect(try await nodes.objects.list(prefix: SharedAccessTimes.directory).count == 1)

        let report = try await nodes.a.evictor(limit: ByteSize(bytes: 1000)).run()
        #expect(report.removedBlobs == 1)
        #expect(try await nodes.blobs.size(of: readOnB.digest) == 1000)
        #expect(try await nodes.blobs.size(of: readOnA.digest) == nil)
    }

    @Test func publishedAccessTimesMergeWithWhatTheNodePublishedBefore() async throws {
        let nodes = try await Nodes()
        let first = try await nodes.storeB.ingest(bytes: randomBytes(10))
        try await nodes.b.accesses.publish()
        // B restarts: a new publisher, and a read of another blob only.
        let second = try await nodes.storeB.ingest(bytes: randomBytes(10))
        let restarted = SharedAccessTimes(objects: nodes.objects, node: nodes.b.node, index: nodes.storeB.index)
        try await nodes.storeB.index.recordAccess([second.digest: Date().timeIntervalSince1970 + 10])
        try await restarted.publish()
        let merged = try await nodes.a.accesses.merged()
        #expect(merged[first.digest] != nil && merged[second.digest] != nil)
    }

    // MARK: Garbage collection

    @Test func garbageCollectionKeepsNamedAndYoungBlobsAndRemovesUnnamedOldOnes() async throws {
        let nodes = try await Nodes()
        let store = nodes.storeA
        let named = try await store.ingest(bytes: randomBytes(100))
        let pinned = try await store.ingest(bytes: randomBytes(100))
        let document = try await store.ingest(bytes: randomBytes(100))
        let infoLayer = try await store.ingest(bytes: randomBytes(100))
        let unnamed = try await store.ingest(bytes: randomBytes(100))
        try await nodes.condaName(named.digest, "named-1.0-0.conda")
        try await nodes.pushedBlob(pinned.digest, size: 100)
        try await nodes.document(document.digest)
        // A derived blob a record mentions without naming it (conda OCI info layers).
        try await nodes.shared.write(["info_tar_gz": infoLayer.digest.description], at: SharedIndex.key("conda-oci-info", ["archive", "noarch"]))
        let upload = try await store.blobs.uploads.create(metadata: Array("{}".utf8))

        // Young: nothing goes.
        let young = try await nodes.a.collector().run()
        #expect(young.removedBlobs.isEmpty && young.youngUnnamedBlobs == 1 && young.namedBlobs == 4 && young.expiredUploads == 0)

        // Two hours later, a dry run removes nothing.
        let later = Date().addingTimeInterval(7200)
        let dry = try await nodes.a.collector().run(dryRun: true, now: later)
        #expect(dry.removedBlobs == [unnamed.digest] && dry.expiredUploads == 1)
        #expect(try await nodes.blobs.size(of: unnamed.digest) == 100)
        #expect(try await store.blobs.uploads.info(upload) != nil)

        let report = try await nodes.a.collector().run(now: later)
        #expect(report.removedBlobs == [unnamed.digest] && report.removedBytes == 100 && report.expiredUploads == 1)
        #expect(try await nodes.blobs.size(of: unnamed.digest) == nil)
        #expect(try await store.index.blob(unnamed.digest) == nil)
        for kept in [named, pinned, document, infoLayer] { #expect(try await nodes.blobs.size(of: kept.digest) == 100) }
        #expect(try await store.blobs.uploads.info(upload) == nil)
    }

    @Test func aNameWrittenAfterTheFirstScanSavesItsBlob() async throws {
        let nodes = try await Nodes()
        let blob = try await nodes.storeA.ingest(bytes: randomBytes(100))
        // Another node names it while the collector looks (between its two scans).
        nodes.objects.afterList = {
            nodes.objects.afterList = nil
            _ = try? await nodes.condaName(blob.digest, "late-1.0-0.conda")
        }
        let report = try await nodes.a.collector().run(now: Date().addingTimeInterval(7200))
        #expect(report.removedBlobs.isEmpty)
        #expect(try await nodes.blobs.size(of: blob.digest) == 100)
    }

    @Test func onlyTheLeaseHolderEvictsAndCollects() async throws {
        let nodes = try await Nodes()
        _ = try await nodes.storeA.ingest(bytes: randomBytes(100))
        let onA = try await nodes.a.tick(limit: ByteSize(bytes: 0))
        #expect(onA.holder && onA.eviction?.removedBlobs == 1 && onA.collection != nil)
        _ = try await nodes.storeB.ingest(bytes: randomBytes(100))
        let onB = try await nodes.b.tick(limit: ByteSize(bytes: 0))
        #expect(!onB.holder && onB.eviction == nil && onB.collection == nil)
        #expect(try await nodes.blobs.entries().count == 1)
        // A stops: B takes over at its next tick.
        await nodes.a.stop()
        let next = try await nodes.b.tick(limit: ByteSize(bytes: 0))
        #expect(next.holder && next.eviction?.removedBlobs == 1)
    }

    // MARK: Against a real bucket

    /// The lease's conditional create and compare-and-swap as SeaweedFS enforces them
    /// (`If-None-Match: *`, `If-Match`), and the scan and access times over real listings.
    @Test func theLeaseAndTheScanOnSeaweedFS() async throws {
        let server = try await S3TestServer.seaweed()
        let objects = S3SharedObjects(client: server.client(for: try await server.makeLocation()))
        let a = MaintenanceLease(objects: objects, node: NodeIdentity(id: UUID().uuidString.lowercased()))
        let b = MaintenanceLease(objects: objects, node: NodeIdentity(id: UUID().uuidString.lowercased()))
        async let first = a.acquire()
        async let second = b.acquire()
        let states = try await [first, second]
        #expect(states.filter { if case .held = $0 { true } else { false } }.count == 1)
        let (holder, other) = await a.isHeld ? (a, b) : (b, a)
        guard case .held = try await holder.acquire() else { Issue.record("the holder could not renew"); return }
        guard case .heldByOther = try await other.acquire() else { Issue.record("a held lease was taken"); return }
        // Expired: taken over with If-Match; the old holder cannot renew.
        let later = Date().addingTimeInterval(400)
        guard case .held = try await other.acquire(now: later) else { Issue.record("an expired lease was not taken over"); return }
        #expect(!(await holder.renew(now: later)))

        let digest = BlobDigest.of(randomBytes(10))
        try await SharedIndex(objects: objects).write(SharedCondaFile(digest: digest.hex, size: 10), at: SharedIndex.condaKey(CondaFileKey(channel: "c", subdir: "noarch", filename: "p-1-0.conda")))
        let scan = SharedNameScan(objects: objects)
        #expect(try await scan.scan().names[digest]?.count == 1)
        #expect(try await scan.scan().referenced == [digest])
    }

    /// Garbage collection and eviction over the S3 backend: two nodes, each its own root and
    /// `S3BlobStore`, on one SeaweedFS bucket. The blobs' LastModified comes from the listing.
    @Test func garbageCollectionAndEvictionOnSeaweedFS() async throws {
        let server = try await S3TestServer.seaweed()
        let location = try await server.makeLocation()
        let root = NSTemporaryDirectory() + "hoard-shared-gc-s3-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        func node(_ name: String) async throws -> Store {
            let client = server.client(for: location)
            return try await Store.open(
                root: root + "/" + name, blobs: S3BlobStore(client: client, spoolDirectory: root + "/" + name + "/tmp/s3-spool"),
                shared: S3SharedObjects(client: client))
        }
        let a = try await node("a")
        let b = try await node("b")
        let maintenanceA = try #require(try SharedMaintenance.make(for: a, interval: .seconds(30)))
        let maintenanceB = try #require(try SharedMaintenance.make(for: b, interval: .seconds(30)))
        let named = try await a.ingest(bytes: randomBytes(100))
        let unnamed = try await b.ingest(bytes: randomBytes(100))
        let key = CondaFileKey(channel: "conda-forge", subdir: "noarch", filename: "named-1.0-0.conda")
        try await a.index.setCondaFile(key, digest: named.digest)

        guard case .held = try await maintenanceA.lease.acquire() else { Issue.record("A could not take the lease"); return }
        let young = try await maintenanceA.collector().run()
        #expect(young.removedBlobs.isEmpty && young.youngUnnamedBlobs == 1 && young.namedBlobs == 1)
        let report = try await maintenanceA.collector().run(now: Date().addingTimeInterval(7200))
        #expect(report.removedBlobs == [unnamed.digest])
        #expect(try await a.blobs.size(of: unnamed.digest) == nil)
        #expect(try await a.blobs.size(of: named.digest) == 100)

        // B read the named blob; A evicts it (over the limit): the name goes, then the blob.
        try await maintenanceB.accesses.publish()
        let eviction = try await maintenanceA.evictor(limit: ByteSize(bytes: 0)).run()
        #expect(eviction.removedBlobs == 1)
        #expect(try await SharedIndex(objects: S3SharedObjects(client: server.client(for: location))).objects.get(SharedIndex.condaKey(key)) == nil)
        #expect(try await b.blobs.size(of: named.digest) == nil)
        #expect(try await b.index.condaFile(key) == nil)
    }
}

/// `MemorySharedObjects` that notes, for every delete, whether the blobs the deleted record
/// mentions were still there (names must go before their blobs), and lets a test act in the
/// middle of an operation (another node writing meanwhile).
final class RecordingSharedObjects: SharedObjects {
    struct Delete: Sendable { let key: SharedKey; let blobsPresent: Bool }
    private let base = MemorySharedObjects()
    private let blobs: MemoryBlobStore
    private let state = Mutex<(deletes: [Delete], afterList: (@Sendable () async -> Void)?, moveBeforeRead: (SharedKey, BlobDigest)?)>(([], nil, nil))

    init(blobs: MemoryBlobStore) { self.blobs = blobs }

    var deletes: [Delete] { state.withLock { $0.deletes } }
    var afterList: (@Sendable () async -> Void)? {
        get { state.withLock { $0.afterList } }
        set { state.withLock { $0.afterList = newValue } }
    }
    /// The next read of this key first points it at this digest (another node moved the name).
    var moveBeforeRead: (SharedKey, BlobDigest)? {
        get { state.withLock { $0.moveBeforeRead } }
        set { state.withLock { $0.moveBeforeRead = newValue } }
    }

    func get(_ key: SharedKey) async throws(StoreError) -> SharedObject? {
        if let (moved, digest) = moveBeforeRead, moved == key {
            moveBeforeRead = nil
            _ = try await base.put(key, Array("{\"digest\":\"\(digest.hex)\",\"size\":100}".utf8), when: .always)
        }
        return try await base.get(key)
    }

    func put(_ key: SharedKey, _ bytes: [UInt8], when condition: SharedWriteCondition) async throws(StoreError) -> String? {
        try await base.put(key, bytes, when: condition)
    }

    func delete(_ key: SharedKey) async throws(StoreError) {
        var present = true
        if let object = try await base.get(key) {
            for digest in SharedNameScan.digests(key: key, bytes: object.bytes) where try await blobs.size(of: digest) == nil {
                present = false
            }
        }
        state.withLock { $0.deletes.append(Delete(key: key, blobsPresent: present)) }
        try await base.delete(key)
    }

    func list(prefix: SharedKey) async throws(StoreError) -> [SharedObjectSummary] {
        let listed = try await base.list(prefix: prefix)
        await afterList?()
        return listed
    }
}
