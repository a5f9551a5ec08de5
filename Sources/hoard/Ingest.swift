import ArgumentParser
import Foundation
import HoardStore
import NIOCore

struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add files (or standard input, as -) to the store as blobs and print their digests.",
        discussion: "Each line printed is `sha256:<hex> <size> <file>`. With --expect, a mismatch is an error and nothing is kept."
    )

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "The digest the (single) input must have, as sha256:<hex>.")
    var expect: String?

    @Argument(help: "Files to add; - reads standard input.")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one file, or - for standard input") }
        if expect != nil && files.count != 1 { throw ValidationError("--expect takes exactly one input") }
    }

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.makeLogger(config)
        let expected = try expect.map { try BlobDigest(parsing: $0) }
        let store = try await common.openStore(config, logger: logger)
        for file in files {
            let handle: FileHandle
            if file == "-" {
                handle = .standardInput
            } else {
                guard let opened = FileHandle(forReadingAtPath: file) else {
                    throw ValidationError("cannot open \(file)")
                }
                handle = opened
            }
            let record = try await store.ingest(FileChunks(handle: handle), expectedDigest: expected)
            print("\(record.digest) \(record.size) \(file)")
        }
    }
}

/// A file read in 1 MiB chunks, as an async sequence of buffers.
struct FileChunks: AsyncSequence {
    typealias Element = ByteBuffer
    let handle: FileHandle

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle
        mutating func next() async throws -> ByteBuffer? {
            let data = try handle.read(upToCount: 1 << 20) ?? Data()
            return data.isEmpty ? nil : ByteBuffer(bytes: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: handle) }
}
