import HoardConda
import HoardStore

/// One subdir's repodata as the web page lists it: records grouped by package name, names in
/// byte order. Built once per repodata snapshot; a search then scans the names (about 25,000 on
/// conda-forge's linux-64), never the files (hundreds of thousands), and a page is a slice.
struct PackageListing: Sendable {
    struct Record: Sendable, Equatable {
        let filename: String
        let sha256: BlobDigest?
        let size: UInt64?
        let timestamp: UInt64?
    }

    /// Package names, sorted by their UTF-8 bytes.
    let names: [String]
    /// `records[starts[i]..<starts[i + 1]]` are the files of `names[i]`, newest first.
    private let starts: [Int]
    private let records: [Record]

    var fileCount: Int { records.count }

    init(records map: [String: PackageDigest]) {
        var groups: [String: [Record]] = [:]
        for (filename, digest) in map {
            let record = Record(filename: filename, sha256: digest.sha256, size: digest.size, timestamp: digest.timestamp)
            groups[Self.packageName(of: filename), default: []].append(record)
        }
        let names = groups.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var starts: [Int] = [0]
        starts.reserveCapacity(names.count + 1)
        var records: [Record] = []
        records.reserveCapacity(map.count)
        for name in names {
            // Newest build first (the record's upload time), then by filename for a stable order.
            let files = (groups[name] ?? []).sorted { a, b in
                if (a.timestamp ?? 0) != (b.timestamp ?? 0) { return (a.timestamp ?? 0) > (b.timestamp ?? 0) }
                return b.filename.utf8.lexicographicallyPrecedes(a.filename.utf8)
            }
            records.append(contentsOf: files)
            starts.append(records.count)
        }
        self.names = names
        self.starts = starts
        self.records = records
    }

    /// The package name of a conda filename (`<name>-<version>-<build>.<ext>`, split from the
    /// right: the name may hold dashes); a filename that does not parse is its own name.
    static func packageName(of filename: String) -> String {
        let utf8 = filename.utf8
        var stemEnd = utf8.endIndex
        if filename.hasSuffix(".conda") {
            stemEnd = utf8.index(stemEnd, offsetBy: -6)
        } else if filename.hasSuffix(".tar.bz2") {
            stemEnd = utf8.index(stemEnd, offsetBy: -8)
        }
        let stem = utf8[..<stemEnd]
        guard let buildDash = stem.lastIndex(of: UInt8(ascii: "-")),
              let versionDash = stem[..<buildDash].lastIndex(of: UInt8(ascii: "-")),
              versionDash > stem.startIndex
        else { return filename }
        return String(decoding: stem[..<versionDash], as: UTF8.self)
    }

    /// One page of what matches a search.
    struct Page: Sendable {
        struct Row: Sendable, Equatable {
            let name: String
            let record: Record
        }

        let rows: [Row]
        /// Files and package names that match, over all pages.
        let matchingFiles: Int
        let matchingNames: Int
    }

    /// The files of the packages whose name contains `query` (ASCII case folded; empty: all),
    /// `limit` of them from `offset`. Exact name first, then names starting with the query, then
    /// the rest, each in name order; a package's files stay together, newest first.
    func page(matching query: String, offset: Int, limit: Int) -> Page {
        let needle = Array(query.utf8).map(Self.fold)
        var exact: [Int] = []
        var prefixed: [Int] = []
        var containing: [Int] = []
        for (i, name) in names.enumerated() {
            switch Self.match(needle, in: name) {
            case .exact: exact.append(i)
            case .prefix: prefixed.append(i)
            case .contains: containing.append(i)
            case .none: break
            }
        }
        var rows: [Page.Row] = []
        var matchingFiles = 0
        var skip = max(offset, 0)
        let limit = max(limit, 0)
        for group in [exact, prefixed, containing] {
            for i in group {
                let count = starts[i + 1] - starts[i]
                matchingFiles += count
                guard rows.count < limit else { continue }
                if skip >= count {
                    skip -= count
                    continue
                }
                let from = starts[i] + skip
                skip = 0
                let to = min(starts[i + 1], from + (limit - rows.count))
                for record in records[from..<to] { rows.append(Page.Row(name: names[i], record: record)) }
            }
        }
        return Page(rows: rows, matchingFiles: matchingFiles, matchingNames: exact.count + prefixed.count + containing.count)
    }

    private enum Match { case exact, prefix, contains, none }

    /// How `needle` (already folded) occurs in `name`, comparing bytes with ASCII case folded.
    private static func match(_ needle: [UInt8], in name: String) -> Match {
        if needle.isEmpty { return .contains }
        var name = name
        // withUTF8 makes the string contiguous if it is not (native strings already are: no copy).
        return name.withUTF8 { hay -> Match in
            let n = needle.count
            guard hay.count >= n else { return .none }
            var start = 0
            while start + n <= hay.count {
                var k = 0
                while k < n && fold(hay[start + k]) == needle[k] { k += 1 }
                if k == n {
                    if start == 0 { return hay.count == n ? .exact : .prefix }
                    return .contains
                }
                start += 1
            }
            return .none
        }
    }

    @inline(__always)
    private static func fold(_ b: UInt8) -> UInt8 {
        (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) ? b + 32 : b
    }
}
