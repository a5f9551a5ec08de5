/// A MessagePack value. Maps keep their pairs in wire order so a decoded document re-encodes
/// with the same key order.
///
/// Integers: the decoder yields `.uint` for positive fixint and uint8-64, `.int` for negative
/// fixint and int8-64; the encoder writes the shortest form, and non-negative `.int` values
/// as unsigned formats (so `.int(5)` comes back as `.uint(5)`; use `integerValue`).
public indirect enum MessagePackValue: Sendable, Hashable {
    case `nil`
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case float(Float)
    case double(Double)
    case string(String)
    case binary([UInt8])
    case array([MessagePackValue])
    case map([MessagePackPair])
    case ext(type: Int8, data: [UInt8])

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var binaryValue: [UInt8]? { if case .binary(let b) = self { return b }; return nil }
    public var arrayValue: [MessagePackValue]? { if case .array(let a) = self { return a }; return nil }
    public var mapValue: [MessagePackPair]? { if case .map(let m) = self { return m }; return nil }

    /// Signed view of either integer case (nil if out of range).
    public var integerValue: Int64? {
        switch self {
        case .int(let v): return v
        case .uint(let v): return v <= UInt64(Int64.max) ? Int64(v) : nil
        default: return nil
        }
    }

    public var unsignedValue: UInt64? {
        switch self {
        case .int(let v): return v >= 0 ? UInt64(v) : nil
        case .uint(let v): return v
        default: return nil
        }
    }

    /// First value under a string key (linear: maps here are small or iterated once).
    public subscript(key: String) -> MessagePackValue? {
        guard case .map(let pairs) = self else { return nil }
        return pairs.first { $0.key.stringValue == key }?.value
    }
}

public struct MessagePackPair: Sendable, Hashable {
    public var key: MessagePackValue
    public var value: MessagePackValue

    public init(_ key: MessagePackValue, _ value: MessagePackValue) {
        self.key = key
        self.value = value
    }
}

public enum MessagePackError: Error, Sendable, Equatable, CustomStringConvertible {
    case unexpectedEnd(offset: Int)
    case invalidFormat(UInt8, offset: Int)
    case invalidUTF8(offset: Int)
    case tooDeep(offset: Int)
    case trailingBytes(offset: Int)

    public var description: String {
        switch self {
        case .unexpectedEnd(let o): return "msgpack data ends early at offset \(o) (truncated?)"
        case .invalidFormat(let b, let o): return "invalid msgpack format byte 0x\(String(b, radix: 16)) at offset \(o)"
        case .invalidUTF8(let o): return "msgpack string at offset \(o) is not valid UTF-8"
        case .tooDeep(let o): return "msgpack nests deeper than \(MessagePack.maxDepth) levels at offset \(o)"
        case .trailingBytes(let o): return "unexpected bytes after the msgpack value at offset \(o)"
        }
    }
}

public enum MessagePack {
    static let maxDepth = 256

    /// Decodes exactly one value spanning all of `bytes`.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(MessagePackError) -> MessagePackValue {
        var reader = MessagePackReader(bytes)
        let value = try reader.readValue(depth: 0)
        guard reader.i == bytes.count else { throw .trailingBytes(offset: reader.i) }
        return value
    }

    public static func decode(_ bytes: [UInt8]) throws(MessagePackError) -> MessagePackValue {
        try withTypedError(MessagePackError.self) { try bytes.withUnsafeBytes { try decode($0) } }
    }

    public static func encode(_ value: MessagePackValue) -> [UInt8] {
        var writer = MessagePackWriter()
        writer.write(value)
        return writer.bytes
    }
}

/// Cursor over the input; a struct with mutating methods keeps the hot path free of
/// exclusivity checks.
struct MessagePackReader {
    let base: UnsafeRawBufferPointer
    var i = 0

    init(_ base: UnsafeRawBufferPointer) { self.base = base }

    @inline(__always) mutating func need(_ n: Int) throws(MessagePackError) {
        guard n >= 0, base.count - i >= n else { throw .unexpectedEnd(offset: i) }
    }

    @inline(__always) mutating func u8() throws(MessagePackError) -> UInt8 {
        try need(1)
        defer { i += 1 }
        return base[i]
    }

    @inline(__always) mutating func be<T: FixedWidthInteger>(_: T.Type) throws(MessagePackError) -> T {
        let n = MemoryLayout<T>.size
        try need(n)
        var v: UInt64 = 0
        for k in 0..<n { v = v << 8 | UInt64(base[i + k]) }
        i += n
        return T(truncatingIfNeeded: v)
    }

    mutating func bytes(_ n: Int) throws(MessagePackError) -> [UInt8] {
        try need(n)
        defer { i += n }
        return Array(UnsafeRawBufferPointer(rebasing: base[i..<(i + n)]))
    }

    mutating func string(_ n: Int) throws(MessagePackError) -> String {
        try need(n)
        let start = i
        defer { i += n }
        guard let s = String(validating: UnsafeRawBufferPointer(rebasing: base[i..<(i + n)]), as: UTF8.self) else {
            throw .invalidUTF8(offset: start)
        }
        return s
    }

    mutating func readValue(depth: Int) throws(MessagePackError) -> MessagePackValue {
        let at = i
        let b = try u8()
        switch b {
        case 0x00...0x7F: return .uint(UInt64(b))
        case 0xE0...0xFF: return .int(Int64(Int8(bitPattern: b)))
        case 0x80...0x8F: return try map(Int(b & 0x0F), depth: depth, at: at)
        case 0x90...0x9F: return try array(Int(b & 0x0F), depth: depth, at: at)
        case 0xA0...0xBF: return .string(try string(Int(b & 0x1F)))
        case 0xC0: return .nil
        case 0xC2: return .bool(false)
        case 0xC3: return .bool(true)
        case 0xC4: return .binary(try bytes(Int(try be(UInt8.self))))
        case 0xC5: return .binary(try bytes(Int(try be(UInt16.self))))
        case 0xC6: return .binary(try bytes(Int(try be(UInt32.self))))
        case 0xC7: let n = Int(try be(UInt8.self)); return try ext(n)
        case 0xC8: let n = Int(try be(UInt16.self)); return try ext(n)
        case 0xC9: let n = Int(try be(UInt32.self)); return try ext(n)
        case 0xCA: return .float(Float(bitPattern: try be(UInt32.self)))
        case 0xCB: return .double(Double(bitPattern: try be(UInt64.self)))
        case 0xCC: return .uint(UInt64(try be(UInt8.self)))
        case 0xCD: return .uint(UInt64(try be(UInt16.self)))
        case 0xCE: return .uint(UInt64(try be(UInt32.self)))
        case 0xCF: return .uint(try be(UInt64.self))
        case 0xD0: return .int(Int64(try be(Int8.self)))
        case 0xD1: return .int(Int64(try be(Int16.self)))
        case 0xD2: return .int(Int64(try be(Int32.self)))
        case 0xD3: return .int(try be(Int64.self))
        case 0xD4: return try ext(1)
        case 0xD5: return try ext(2)
        case 0xD6: return try ext(4)
        case 0xD7: return try ext(8)
        case 0xD8: return try ext(16)
        case 0xD9: return .string(try string(Int(try be(UInt8.self))))
        case 0xDA: return .string(try string(Int(try be(UInt16.self))))
        case 0xDB: return .string(try string(Int(try be(UInt32.self))))
        case 0xDC: return try array(Int(try be(UInt16.self)), depth: depth, at: at)
        case 0xDD: return try array(Int(try be(UInt32.self)), depth: depth, at: at)
        case 0xDE: return try map(Int(try be(UInt16.self)), depth: depth, at: at)
        case 0xDF: return try map(Int(try be(UInt32.self)), depth: depth, at: at)
        default: throw .invalidFormat(b, offset: at) // 0xC1 is never used
        }
    }

    private mutating func ext(_ n: Int) throws(MessagePackError) -> MessagePackValue {
        let type = Int8(bitPattern: try u8())
        return .ext(type: type, data: try bytes(n))
    }

    private mutating func array(_ n: Int, depth: Int, at: Int) throws(MessagePackError) -> MessagePackValue {
        guard depth < MessagePack.maxDepth else { throw .tooDeep(offset: at) }
        // Every element takes at least one byte: bounds the reservation on hostile counts.
        try need(n)
        var out: [MessagePackValue] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try readValue(depth: depth + 1)) }
        return .array(out)
    }

    private mutating func map(_ n: Int, depth: Int, at: Int) throws(MessagePackError) -> MessagePackValue {
        guard depth < MessagePack.maxDepth else { throw .tooDeep(offset: at) }
        try need(n * 2)
        var out: [MessagePackPair] = []
        out.reserveCapacity(n)
        for _ in 0..<n {
            let k = try readValue(depth: depth + 1)
            let v = try readValue(depth: depth + 1)
            out.append(MessagePackPair(k, v))
        }
        return .map(out)
    }
}

struct MessagePackWriter {
    var bytes: [UInt8] = []

    @inline(__always) mutating func be<T: FixedWidthInteger>(_ v: T) {
        for k in stride(from: MemoryLayout<T>.size - 1, through: 0, by: -1) {
            bytes.append(UInt8(truncatingIfNeeded: v >> (k * 8)))
        }
    }

    mutating func header(_ count: Int, fix: UInt8?, fixMax: Int, _ f8: UInt8?, _ f16: UInt8, _ f32: UInt8) {
        if let fix, count <= fixMax {
            bytes.append(fix | UInt8(count))
        } else if let f8, count <= 0xFF {
            bytes.append(f8); be(UInt8(count))
        } else if count <= 0xFFFF {
            bytes.append(f16); be(UInt16(count))
        } else {
            precondition(count <= 0xFFFF_FFFF, "msgpack cannot encode more than 2^32-1 items or bytes")
            bytes.append(f32); be(UInt32(count))
        }
    }

    mutating func write(_ value: MessagePackValue) {
        switch value {
        case .nil: bytes.append(0xC0)
        case .bool(let b): bytes.append(b ? 0xC3 : 0xC2)
        case .uint(let v): writeUnsigned(v)
        case .int(let v):
            if v >= 0 {
                writeUnsigned(UInt64(v))
            } else if v >= -32 {
                bytes.append(UInt8(bitPattern: Int8(v)))
            } else if v >= Int64(Int8.min) {
                bytes.append(0xD0); be(Int8(v))
            } else if v >= Int64(Int16.min) {
                bytes.append(0xD1); be(Int16(v))
            } else if v >= Int64(Int32.min) {
                bytes.append(0xD2); be(Int32(v))
            } else {
                bytes.append(0xD3); be(v)
            }
        case .float(let f): bytes.append(0xCA); be(f.bitPattern)
        case .double(let d): bytes.append(0xCB); be(d.bitPattern)
        case .string(let s):
            let utf8 = s.utf8
            header(utf8.count, fix: 0xA0, fixMax: 31, 0xD9, 0xDA, 0xDB)
            bytes.append(contentsOf: utf8)
        case .binary(let b):
            header(b.count, fix: nil, fixMax: 0, 0xC4, 0xC5, 0xC6)
            bytes.append(contentsOf: b)
        case .array(let a):
            header(a.count, fix: 0x90, fixMax: 15, nil, 0xDC, 0xDD)
            for v in a { write(v) }
        case .map(let m):
            header(m.count, fix: 0x80, fixMax: 15, nil, 0xDE, 0xDF)
            for p in m { write(p.key); write(p.value) }
        case .ext(let type, let data):
            switch data.count {
            case 1: bytes.append(0xD4)
            case 2: bytes.append(0xD5)
            case 4: bytes.append(0xD6)
            case 8: bytes.append(0xD7)
            case 16: bytes.append(0xD8)
            default: header(data.count, fix: nil, fixMax: 0, 0xC7, 0xC8, 0xC9)
            }
            bytes.append(UInt8(bitPattern: type))
            bytes.append(contentsOf: data)
        }
    }

    private mutating func writeUnsigned(_ v: UInt64) {
        if v <= 0x7F {
            bytes.append(UInt8(v))
        } else if v <= 0xFF {
            bytes.append(0xCC); be(UInt8(v))
        } else if v <= 0xFFFF {
            bytes.append(0xCD); be(UInt16(v))
        } else if v <= 0xFFFF_FFFF {
            bytes.append(0xCE); be(UInt32(v))
        } else {
            bytes.append(0xCF); be(v)
        }
    }
}
