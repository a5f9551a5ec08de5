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

/// A single `Range: bytes=…` request against a blob of known size (RFC 9110 §14).
enum ByteRangeRequest: Equatable {
    /// No usable Range header (absent, several ranges, another unit): serve the whole blob.
    case whole
    case range(ClosedRange<Int64>)
    /// Syntactically fine but outside the blob: 416 with `Content-Range: bytes */SIZE`.
    case unsatisfiable

    init(header: String?, size: Int64) {
        guard let header else { self = .whole; return }
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.lowercased().hasPrefix("bytes="), !text.contains(",") else { self = .whole; return }
        let spec = text.dropFirst(6).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { self = .whole; return }
        let first = Int64(parts[0])
        let last = Int64(parts[1])
        switch (parts[0].isEmpty, parts[1].isEmpty) {
        case (true, false):
            // Suffix range: the last N bytes.
            guard let n = last else { self = .whole; return }
            guard n > 0, size > 0 else { self = .unsatisfiable; return }
            self = .range(max(size - n, 0)...(size - 1))
        case (false, true):
            guard let start = first else { self = .whole; return }
            guard start < size else { self = .unsatisfiable; return }
            self = .range(start...(size - 1))
        case (false, false):
            guard let start = first, let end = last else { self = .whole; return }
            guard start <= end, start < size else { self = .unsatisfiable; return }
            self = .range(start...min(end, size - 1))
        default:
            self = .whole
        }
    }
}
