import HoardHTTP

/// `n` / `last` paging for `tags/list` and `_catalog`.
public struct PageRequest: Hashable, Sendable {
    /// Requests above this are clamped (conda-oci-mirror asks for n=100000000); never rejected.
    public static let maxPageSize = 10_000

    /// The clamped `n`, or nil when the client gave none.
    public var limit: Int?
    /// Exclusive lower bound (`last`): results start after this value in lexical order.
    public var last: String?

    public init(limit: Int? = nil, last: String? = nil) {
        self.limit = limit.map { min(max($0, 0), Self.maxPageSize) }
        self.last = last
    }

    /// Reads `n` and `last` from decoded query pairs. A non-numeric or negative `n` is a client bug
    /// and rejected; a numerically huge one is clamped.
    public init(query: [(String, String)]) throws(OCIError) {
        var limit: Int?
        var last: String?
        for (key, value) in query {
            switch key {
            case "n":
                guard !value.isEmpty, value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                    throw OCIError(.unsupported, "query parameter n=\"\(value)\" must be a non-negative integer", status: 400)
                }
                // Digits only, so a parse failure can only be overflow: clamp.
                limit = Int(value) ?? Self.maxPageSize
            case "last":
                last = value
            default:
                continue
            }
        }
        self.init(limit: limit, last: last)
    }

    /// The number of items to return: the clamped `n`, else `defaultLimit` (also clamped).
    public func effectiveLimit(default defaultLimit: Int = PageRequest.maxPageSize) -> Int {
        limit ?? min(defaultLimit, Self.maxPageSize)
    }

    /// Applies `last` and the limit to lexically sorted `items`. `hasMore` says a `Link` is due.
    public func page(of sortedItems: [String], defaultLimit: Int = PageRequest.maxPageSize) -> (items: [String], hasMore: Bool) {
        var start = sortedItems.startIndex
        if let last {
            start = sortedItems.partitionPoint { $0 <= last }
        }
        let n = effectiveLimit(default: defaultLimit)
        let end = min(start + n, sortedItems.endIndex)
        // n=0 means an empty list and no Link (spec).
        let hasMore = n > 0 && end < sortedItems.endIndex
        return (Array(sortedItems[start..<end]), hasMore)
    }
}

/// Builds the `Link` header values. Path-only on purpose: oras-py prefixes scheme+host itself.
public enum PaginationLink {
    /// `</v2/<name>/tags/list?n=N&last=X>; rel="next"`.
    public static func tags(repository: RepositoryName, limit: Int, last: String) -> String {
        "</v2/\(repository.value)/tags/list?n=\(limit)&last=\(encode(last))>; rel=\"next\""
    }

    /// `</v2/_catalog?n=N&last=X>; rel="next"`.
    public static func catalog(limit: Int, last: String) -> String {
        "</v2/_catalog?n=\(limit)&last=\(encode(last))>; rel=\"next\""
    }

    private static func encode(_ s: String) -> String {
        // "/" is legal in a query and keeps catalog cursors readable.
        PercentEncoding.encode(s, keeping: [UInt8(ascii: "/")])
    }
}

extension Array where Element == String {
    /// First index whose element does not satisfy `belongsBefore` (array must be partitioned).
    fileprivate func partitionPoint(_ belongsBefore: (String) -> Bool) -> Int {
        var low = startIndex
        var high = endIndex
        while low < high {
            let mid = (low + high) / 2
            if belongsBefore(self[mid]) { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
