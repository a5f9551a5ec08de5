import Foundation
import HoardS3
import HoardS3TestSupport
import NIOCore
import Testing

@testable import HoardStore

/// `hoard verify` on a bucket: blobs re-hashed, names checked against the blobs, against moto and
/// SeaweedFS (blobs through `S3BlobStore`, records through `S3SharedObjects`, as nodes write them).
@Suite struct SharedVerifierTests {
    /// Stores `bytes` as a node does (verified, then committed).
    static func store(_ bytes: [UInt8], in bucket: S3Bucket) async throws -> BlobDigest {
        let digest = BlobDigest.of(bytes)
        let writer = try await bucket.store.makeWriter(expectedDigest: digest, expectedSize: Int64(bytes.count))
        try await writer.write(ByteBuffer(bytes: bytes))
        _ = try await writer.commit()
        return digest
    }

    /// A conda file name for `digest`, written as the conda side of the shared index writes it.
    @discardableResult
    static func name(_ digest: BlobDigest, _ filename: String, in objects: any SharedObjects) async throws -> SharedKey {
        let key = SharedIndex.condaKey(CondaFileKey(channel: "conda-forge", subdir: "noarch", filename: filename))
        _ = try await SharedIndex(objects: objects).write(["digest": digest.description], at: key)
        return key
    }

    @Test(arguments: S3TestServer.Kind.allCases)
    func aBucketWhoseBlobsAreWholeAndNamedIsClean(_ kind: S3TestServer.Kind) async throws {
        let bucket = try await S3Bucket(kind)
        let objects = S3SharedObjects(client: bucket.client)
        // Larger than one read of the verifier: hashed across pieces.
        let large = randomBlob(SharedVerifier.step * 2 + 17)
        let small = randomBlob(300)
        let loose = randomBlob(40)
        try await Self.name(try await Self.store(large, in: bucket), "large-1.0-0.conda", in: objects)
        try await Self.name(try await Self.store(small, in: bucket), "small-1.0-0.conda", in: objects)
        // Stored, named by nothing (yet): garbage collection's business, not damage.
        _ = try await Self.store(loose, in: bucket)

        let report = try await SharedVerifier(blobs: bucket.store, objects: objects, parallelism: 2).run()
        #expect(report.checkedBlobs == 3)
        #expect(report.checkedBytes == Int64(large.count + small.count + loose.count))
        #expect(report.records == 2)
        #expect(report.unreferenced == 1)
        #expect(report.corrupt.isEmpty && report.missing.isEmpty && report.foreign.isEmpty)
        #expect(!report.foundDamage)
    }

    @Test(arguments: S3TestServer.Kind.allCases)
    func corruptMissingAndForeignObjectsAreReported(_ kind: S3TestServer.Kind) async throws {
        let bucket = try await S3Bucket(kind)
        let objects = S3SharedObjects(client: bucket.client)
        let good = try await Self.store(randomBlob(1000), in: bucket)
        try await Self.name(good, "good-1.0-0.conda", in: objects)
        // Bytes under a name they do not hash to (put behind the store's back, as bit rot or a
        // hand-made copy would leave them), one byte short of a piece and over it.
        let claimed = BlobDigest.of(randomBlob(64))
        _ = try await bucket.client.put("blobs/sha256/\(claimed.hex)", body: ByteBuffer(bytes: randomBlob(SharedVerifier.step + 1)))
        try await Self.name(claimed, "rotten-1.0-0.conda", in: objects)
        // A name whose blob the bucket does not hold.
        let absent = BlobDigest.of(randomBlob(64))
        let absentName = try await Self.name(absent, "gone-1.0-0.conda", in: objects)
        // Something under blobs/ that is not a blob.
        _ = try await bucket.client.put("blobs/sha256/not-a-digest", body: ByteBuffer(bytes: [1, 2, 3]))

        let report = try await SharedVerifier(blobs: bucket.store, objects: objects, parallelism: 3).run()
        #expect(report.corrupt == [claimed])
        #expect(report.missing.map(\.digest) == [absent])
        #expect(report.missing.first?.names == [absentName])
        #expect(report.foreign == ["blobs/sha256/not-a-digest"])
        #expect(report.checkedBlobs == 2)
        #expect(report.foundDamage)
    }

    /// A derived blob (a conda OCI info layer) that eviction took is made again on demand: a
    /// record that only refers to it is no missing blob.
    @Test func aReferenceToAnEvictedDerivedBlobIsNoDamage() async throws {
        let blobs = MemoryBlobStore()
        let objects = MemorySharedObjects()
        let layer = BlobDigest.of(randomBlob(64))
        let key = SharedIndex.condaInfoLayerKey(layer: layer, archive: BlobDigest.of(randomBlob(64)), subdir: "noarch")
        _ = try await SharedIndex(objects: objects).write(["layer": layer.description], at: key)
        #expect(SharedNameScan.role(of: key) == .reference)

        let report = try await SharedVerifier(blobs: blobs, objects: objects, parallelism: 1).run()
        #expect(report.missing.isEmpty)
        #expect(!report.foundDamage)
    }
}
