/// One replacement of a byte range in a document.
public struct Edit: Sendable, Hashable {
    public var range: Range<Int>
    public var replacement: [UInt8]

    public init(range: Range<Int>, replacement: [UInt8]) {
        self.range = range
        self.replacement = replacement
    }

    /// Size of the document after applying `edits` to `originalCount` bytes (for Content-Length).
    public static func resultCount(of edits: [Edit], originalCount: Int) -> Int {
        edits.reduce(originalCount) { $0 - $1.range.count + $1.replacement.count }
    }

    /// Streams `bytes` with `edits` applied: unchanged stretches are passed as slices of the
    /// original buffer, never copied. Edits must not overlap (they are sorted here).
    public static func apply<E: Error>(
        _ edits: [Edit], to bytes: UnsafeRawBufferPointer,
        write: (UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(E) {
        var position = 0
        for edit in edits.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
            precondition(edit.range.lowerBound >= position && edit.range.upperBound <= bytes.count, "overlapping or out-of-range edits")
            if edit.range.lowerBound > position {
                try write(UnsafeRawBufferPointer(rebasing: bytes[position..<edit.range.lowerBound]))
            }
            // Array.withUnsafeBytes only rethrows untyped errors; carry E through a Result.
            let written: Result<Void, E> = edit.replacement.withUnsafeBytes { r in
                do throws(E) { try write(r); return .success(()) } catch { return .failure(error) }
            }
            try written.get()
            position = edit.range.upperBound
        }
        if position < bytes.count {
            try write(UnsafeRawBufferPointer(rebasing: bytes[position...]))
        }
    }
}

/// The edits that make a repodata.json point at this server, plus where upstream really keeps
/// packages and shards.
public struct RepodataRewritePlan: Sendable, Hashable {
    public var edits: [Edit]
    /// The absolute upstream `base_url` that was replaced: fetch packages from `<it><filename>`.
    public var upstreamBaseURL: String?
    /// The absolute upstream `shards_base_url` that was replaced.
    public var upstreamShardsBaseURL: String?
    public var info: RepodataInfo

    public var isUnchanged: Bool { edits.isEmpty }
}

public enum RepodataRewrite {
    /// What an absolute `base_url` becomes: packages sit next to repodata.json in the subdir.
    public static let localBaseURL = "./"
    /// What an absolute `shards_base_url` becomes.
    public static let localShardsBaseURL = "./shards/"

    /// Plans the rewrite of `info.base_url` / `info.shards_base_url`. Relative values are kept;
    /// absolute ones (any URL scheme, or `//host`) are replaced because clients would otherwise
    /// bypass the cache.
    public static func plan(document: UnsafeRawBufferPointer) throws(RepodataScanError) -> RepodataRewritePlan {
        let info = try RepodataInfoScanner.scan(document)
        var edits: [Edit] = []
        var upstreamBase: String?
        var upstreamShards: String?
        for token in info.baseURLTokens where isAbsoluteURL(token.value) {
            edits.append(Edit(range: token.range, replacement: Array("\"\(localBaseURL)\"".utf8)))
            upstreamBase = token.value
        }
        for token in info.shardsBaseURLTokens where isAbsoluteURL(token.value) {
            edits.append(Edit(range: token.range, replacement: Array("\"\(localShardsBaseURL)\"".utf8)))
            upstreamShards = token.value
        }
        edits.sort { $0.range.lowerBound < $1.range.lowerBound }
        return RepodataRewritePlan(edits: edits, upstreamBaseURL: upstreamBase, upstreamShardsBaseURL: upstreamShards, info: info)
    }

    /// True for `scheme:...` (RFC 3986 scheme grammar) and network-path references `//host/...`;
    /// both make a client leave this server.
    public static func isAbsoluteURL(_ s: String) -> Bool {
        let u = Array(s.utf8.prefix(64))
        if u.count >= 2, u[0] == UInt8(ascii: "/"), u[1] == UInt8(ascii: "/") { return true }
        guard let first = u.first, (first | 0x20) >= 0x61, (first | 0x20) <= 0x7A else { return false }
        for b in u.dropFirst() {
            if b == UInt8(ascii: ":") { return true }
            guard ASCII.isAlnum(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") else { return false }
        }
        return false
    }
}
