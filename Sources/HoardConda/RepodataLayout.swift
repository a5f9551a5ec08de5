/// Where each package record sits in a repodata.json: the byte ranges of the members of its
/// `packages` and `packages.conda` objects. Lets hoard filter a document and cut it into shards
/// without parsing the records it does not need (a conda-forge subdir has ~700,000 of them).
public struct RepodataLayout: Sendable {
    public enum Section: String, Sendable, Hashable, CaseIterable {
        case packages = "packages"
        case packagesConda = "packages.conda"
    }

    /// One record: `"<filename>": { ... }`.
    public struct Record: Sendable, Hashable {
        public var section: Section
        public var filename: String
        /// From the key's opening quote to the end of the value.
        public var member: Range<Int>
        /// The value (`{ ... }`) alone.
        public var value: Range<Int>
    }

    /// One top-level `packages` / `packages.conda` object: `{` to `}` inclusive.
    public struct SectionObject: Sendable, Hashable {
        public var section: Section
        public var range: Range<Int>
        /// Indices into `records` of the members it holds, in document order.
        public var records: Range<Int>
    }

    public var sections: [SectionObject] = []
    public var records: [Record] = []
    /// `info.subdir`, when the document names it.
    public var subdir: String?

    /// Scans a whole repodata document. Only the two record sections are looked into (member by
    /// member, values skipped by bracket matching); everything else is skipped. A section that
    /// appears twice is reported twice (JSON parsers keep the last: so does a filtered copy).
    public static func scan(_ bytes: UnsafeRawBufferPointer) throws(RepodataScanError) -> RepodataLayout {
        var cursor = JSONCursor(bytes)
        var layout = RepodataLayout()
        cursor.skipWhitespace()
        guard cursor.i < cursor.count, cursor.byte(cursor.i) == UInt8(ascii: "{") else { throw .notAnObject }
        cursor.i += 1
        if try cursor.peek() == UInt8(ascii: "}") { return layout }
        while true {
            let key = try cursor.readString().value
            try cursor.expect(UInt8(ascii: ":"))
            if let section = Section(rawValue: key), try cursor.peek() == UInt8(ascii: "{") {
                try scanSection(section, cursor: &cursor, into: &layout)
            } else if key == "info", try cursor.peek() == UInt8(ascii: "{") {
                layout.subdir = try scanSubdir(cursor: &cursor)
            } else {
                try cursor.skipValue()
            }
            let separator = try cursor.peek()
            cursor.i += 1
            if separator == UInt8(ascii: "}") { return layout }
            guard separator == UInt8(ascii: ",") else { throw .unexpectedByte(separator, offset: cursor.i - 1) }
        }
    }

    private static func scanSection(_ section: Section, cursor: inout JSONCursor, into layout: inout RepodataLayout) throws(RepodataScanError) {
        let start = cursor.i
        cursor.i += 1
        let first = layout.records.count
        if try cursor.peek() != UInt8(ascii: "}") {
            while true {
                _ = try cursor.peek()
                let memberStart = cursor.i
                let filename = try cursor.readString().value
                try cursor.expect(UInt8(ascii: ":"))
                _ = try cursor.peek()
                let valueStart = cursor.i
                try cursor.skipValue()
                layout.records.append(Record(section: section, filename: filename, member: memberStart..<cursor.i, value: valueStart..<cursor.i))
                let separator = try cursor.peek()
                if separator == UInt8(ascii: "}") { break }
                guard separator == UInt8(ascii: ",") else { throw .unexpectedByte(separator, offset: cursor.i) }
                cursor.i += 1
            }
        }
        cursor.i += 1
        layout.sections.append(SectionObject(section: section, range: start..<cursor.i, records: first..<layout.records.count))
    }

    /// `info.subdir` when it is a string; the rest of `info` is skipped.
    private static func scanSubdir(cursor: inout JSONCursor) throws(RepodataScanError) -> String? {
        cursor.i += 1
        var subdir: String?
        if try cursor.peek() == UInt8(ascii: "}") { cursor.i += 1; return nil }
        while true {
            let key = try cursor.readString().value
            try cursor.expect(UInt8(ascii: ":"))
            if key == "subdir", try cursor.peek() == UInt8(ascii: "\"") {
                subdir = try cursor.readString().value
            } else {
                try cursor.skipValue()
            }
            let separator = try cursor.peek()
            cursor.i += 1
            if separator == UInt8(ascii: "}") { return subdir }
            guard separator == UInt8(ascii: ",") else { throw .unexpectedByte(separator, offset: cursor.i - 1) }
        }
    }
}

/// A repodata.json reduced to the records a predicate keeps; every other byte (info, removed,
/// unknown keys, the kept records themselves) is copied as it was.
public enum RepodataFilter {
    /// Streams `bytes` with every record `keep` rejects removed from its section. `layout` is
    /// `RepodataLayout.scan(bytes)`.
    public static func write<E: Error>(
        _ bytes: UnsafeRawBufferPointer, layout: RepodataLayout, keep: (RepodataLayout.Record) -> Bool,
        write: (UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(E) {
        var position = 0
        for section in layout.sections {
            // Up to and including the section's `{`.
            try write(UnsafeRawBufferPointer(rebasing: bytes[position...section.range.lowerBound]))
            var first = true
            for index in section.records where keep(layout.records[index]) {
                if !first {
                    // Array.withUnsafeBytes only rethrows untyped errors; carry E through a Result.
                    let written: Result<Void, E> = [UInt8(ascii: ",")].withUnsafeBytes { p in
                        do throws(E) { try write(p); return .success(()) } catch { return .failure(error) }
                    }
                    try written.get()
                }
                first = false
                try write(UnsafeRawBufferPointer(rebasing: bytes[layout.records[index].member]))
            }
            position = section.range.upperBound - 1  // the section's `}`
        }
        if position < bytes.count { try write(UnsafeRawBufferPointer(rebasing: bytes[position...])) }
    }
}
