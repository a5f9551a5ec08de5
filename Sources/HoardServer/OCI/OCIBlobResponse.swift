import Foundation
import HoardStore
import Hummingbird
import NIOCore
import NIOPosix

/// Streams a byte range of a committed blob (never the whole blob in memory), as `FileBody` does.
enum OCIBlobResponse {
    /// The body for bytes `range` of `file`.
    static func body(_ file: BlobFile, range: ClosedRange<Int64>) -> ResponseBody {
        ResponseBody(contentLength: range.count) { writer in
            try await FileBody.write(file.reader, from: range.lowerBound, to: range.upperBound + 1, into: &writer)
            try await writer.finish(nil)
        }
    }
}
