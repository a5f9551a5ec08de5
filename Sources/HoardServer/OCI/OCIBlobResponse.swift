import Foundation
import HoardStore
import Hummingbird
import NIOCore

/// Streams a byte range of a committed blob (never the whole blob in memory), as `FileBody` does.
enum OCIBlobResponse {
    /// The body for bytes `range` of `reader`.
    static func body(_ reader: any BlobReader, range: ClosedRange<Int64>) -> ResponseBody {
        ResponseBody(contentLength: range.count) { writer in
            try await FileBody.write(reader, from: range.lowerBound, to: range.upperBound + 1, into: &writer)
            try await writer.finish(nil)
        }
    }
}
