import Foundation
import NIOCore
import Testing
@testable import HoardStore

/// What only the file backend's upload sessions promise: the layout of `cache-layout.md`
/// (`tmp/uploads/<uuid>/state.json` + `data`), kept across a restart, and recovery of the directory.
@Suite struct FileBlobUploadsTests {
    @Test func aSessionWrittenByAnEarlierHoardIsReadAsItWas() async throws {
        let directory = TemporaryDirectory()
        let layout = StoreLayout(root: directory.path)
        let store = FileBlobStore(layout: layout)
        try await store.prepare()
        // As hoard wrote sessions before they moved behind the store.
        let id = "0f5e3b9a-4c1d-4e2f-8a7b-6c5d4e3f2a1b"
        let session = layout.uploadsDirectory + "/" + id
        try FileManager.default.createDirectory(atPath: session, withIntermediateDirectories: false)
        let state = Data(#"{"repository":"team/app","created":1764000000}"#.utf8)
        #expect(FileManager.default.createFile(atPath: session + "/state.json", contents: state))
        #expect(FileManager.default.createFile(atPath: session + "/data", contents: Data([1, 2, 3, 4, 5])))

        let uploadID = try #require(UploadID(id))
        let info = try #require(try await store.uploads.info(uploadID))
        #expect(info.metadata == Array(state) && info.size == 5)
        #expect(try await store.uploads.list().map(\.id.value) == [id])

        // And sessions made now are laid out the same way.
        let made = try await store.uploads.create(metadata: Array("meta".utf8))
        try await store.uploads.appender(made).append(ByteBuffer(bytes: [9, 9]))
        let path = layout.uploadsDirectory + "/" + made.value
        #expect(FileManager.default.contents(atPath: path + "/state.json") == Data("meta".utf8))
        #expect(FileManager.default.contents(atPath: path + "/data") == Data([9, 9]))
    }

    @Test func openingTheStoreRemovesWhatIsNoSessionAndKeepsSessions() async throws {
        let directory = TemporaryDirectory()
        let root = directory.path + "/store"
        let id: UploadID
        do {
            let store = try await Store.open(root: root)
            id = try await store.blobs.uploads.create(metadata: [1])
            try await store.blobs.uploads.appender(id).append(ByteBuffer(bytes: [1, 2, 3]))
            let uploads = store.layout.uploadsDirectory
            #expect(FileManager.default.createFile(atPath: uploads + "/stray-file", contents: Data([0])))
            try FileManager.default.createDirectory(atPath: uploads + "/not-a-session", withIntermediateDirectories: false)
            // An upper-case UUID is not how hoard names a session either.
            try FileManager.default.createDirectory(atPath: uploads + "/" + UUID().uuidString.uppercased(), withIntermediateDirectories: false)
        }
        let reopened = try await Store.open(root: root)
        #expect(filesIn(reopened.layout.uploadsDirectory) == [id.value])
        #expect(try await reopened.blobs.uploads.info(id)?.size == 3)
    }
}
