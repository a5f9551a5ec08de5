/// Reads one JSON value (a repodata record) as a MessagePack value: objects keep their key
/// order, integers become `.uint`/`.int`, other numbers `.double`. Numbers no 64-bit integer
/// holds become doubles (a hostile size of 10^30 stays a number, never a trap).
public enum JSONMessagePack {
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(RepodataScanError) -> MessagePackValue {
        var cursor = JSONCursor(bytes)
        let value = try cursor.readMessagePackValue(depth: 0)
        cursor.skipWhitespace()
        guard cursor.i == cursor.count else { throw .unexpectedByte(cursor.byte(cursor.i), offset: cursor.i) }
        return value
    }
}

extension JSONCursor {
    mutating func readMessagePackValue(depth: Int) throws(RepodataScanError) -> MessagePackValue {
        guard depth < RepodataInfoScanner.maxDepth else { throw .tooDeep(offset: i) }
        let b = try peek()
        switch b {
        case UInt8(ascii: "\""):
            return .string(try readString().value)
        case UInt8(ascii: "{"):
            i += 1
            var pairs: [MessagePackPair] = []
            if try peek() == UInt8(ascii: "}") { i += 1; return .map(pairs) }
            while true {
                let key = try readString().value
                try expect(UInt8(ascii: ":"))
                pairs.append(MessagePackPair(.string(key), try readMessagePackValue(depth: depth + 1)))
                let separator = try peek()
                i += 1
                if separator == UInt8(ascii: "}") { return .map(pairs) }
                guard separator == UInt8(ascii: ",") else { throw .unexpectedByte(separator, offset: i - 1) }
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [MessagePackValue] = []
            if try peek() == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                items.append(try readMessagePackValue(depth: depth + 1))
                let separator = try peek()
                i += 1
                if separator == UInt8(ascii: "]") { return .array(items) }
                guard separator == UInt8(ascii: ",") else { throw .unexpectedByte(separator, offset: i - 1) }
            }
        default:
            return try readScalar()
        }
    }

    private mutating func readScalar() throws(RepodataScanError) -> MessagePackValue {
        let start = i
        while i < count {
            let c = byte(i)
            guard ASCII.isAlnum(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: ".") else { break }
            i += 1
        }
        guard i > start else { throw .unexpectedByte(byte(start), offset: start) }
        let token = String(decoding: UnsafeBufferPointer(start: base.unsafelyUnwrapped + start, count: i - start), as: UTF8.self)
        switch token {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .nil
        default: break
        }
        let first = token.utf8.first ?? 0
        guard first == UInt8(ascii: "-") || (first >= 0x30 && first <= 0x39) else { throw .unexpectedByte(first, offset: start) }
        if let value = UInt64(token) { return .uint(value) }
        if let value = Int64(token) { return .int(value) }
        if let value = Double(token), value.isFinite { return .double(value) }
        throw .unexpectedByte(first, offset: start)
    }
}
