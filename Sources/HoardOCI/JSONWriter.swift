/// A minimal JSON writer that keeps keys in the order they are written.
///
/// Manifests hoard synthesises must have stable bytes (their digest is their identity), so key order
/// and number formatting are fixed here instead of relying on an encoder's choices.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []

    mutating func object(_ body: (inout ObjectWriter) -> Void) {
        var o = ObjectWriter()
        body(&o)
        bytes += o.finish()
    }

    struct ObjectWriter {
        private var out: [UInt8] = [UInt8(ascii: "{")]
        private var first = true

        fileprivate mutating func finish() -> [UInt8] { out + [UInt8(ascii: "}")] }

        private mutating func key(_ k: String) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONWriter.appendString(k, to: &out)
            out.append(UInt8(ascii: ":"))
        }

        mutating func string(_ k: String, _ v: String) {
            key(k)
            JSONWriter.appendString(v, to: &out)
        }

        mutating func int(_ k: String, _ v: Int64) {
            key(k)
            out += Array(String(v).utf8)
        }

        mutating func value(_ k: String, _ v: JSONValue) {
            key(k)
            JSONWriter.appendValue(v, to: &out)
        }

        mutating func object(_ k: String, _ body: (inout ObjectWriter) -> Void) {
            key(k)
            var o = ObjectWriter()
            body(&o)
            out += o.finish()
        }

        mutating func array(_ k: String, _ body: (inout ArrayWriter) -> Void) {
            key(k)
            var a = ArrayWriter()
            body(&a)
            out += a.finish()
        }

        /// `{"k":"v",...}` with keys sorted, so maps without an inherent order are stable.
        mutating func stringMap(_ k: String, _ map: [String: String]) {
            object(k) { o in
                for key in map.keys.sorted() { o.string(key, map[key]!) }
            }
        }
    }

    struct ArrayWriter {
        private var out: [UInt8] = [UInt8(ascii: "[")]
        private var first = true

        fileprivate mutating func finish() -> [UInt8] { out + [UInt8(ascii: "]")] }

        private mutating func separator() {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
        }

        mutating func object(_ body: (inout ObjectWriter) -> Void) {
            separator()
            var o = ObjectWriter()
            body(&o)
            out += o.finish()
        }

        mutating func string(_ v: String) {
            separator()
            JSONWriter.appendString(v, to: &out)
        }
    }

    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 0xf)]]
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func appendValue(_ v: JSONValue, to out: inout [UInt8]) {
        switch v {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .int(let i): out += Array(String(i).utf8)
        case .double(let d): out += Array(String(d).utf8)
        case .string(let s): appendString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                appendValue(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let pairs):
            out.append(UInt8(ascii: "{"))
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                appendString(pair.key, to: &out)
                out.append(UInt8(ascii: ":"))
                appendValue(pair.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}

/// Arbitrary JSON kept as parsed (e.g. a descriptor's `platform`), for passing through untouched.
/// Object keys are sorted on decode because Foundation's decoder does not expose document order.
public indirect enum JSONValue: Hashable, Sendable, Codable {
    public struct Pair: Hashable, Sendable {
        public var key: String
        public var value: JSONValue
    }

    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([Pair])

    public subscript(key: String) -> JSONValue? {
        if case .object(let pairs) = self { return pairs.first(where: { $0.key == key })?.value }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
            var pairs: [Pair] = []
            for key in keyed.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                pairs.append(Pair(key: key.stringValue, value: try keyed.decode(JSONValue.self, forKey: key)))
            }
            self = .object(pairs)
        } else if var unkeyed = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !unkeyed.isAtEnd { items.append(try unkeyed.decode(JSONValue.self)) }
            self = .array(items)
        } else {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() {
                self = .null
            } else if let b = try? c.decode(Bool.self) {
                self = .bool(b)
            } else if let i = try? c.decode(Int64.self) {
                self = .int(i)
            } else if let d = try? c.decode(Double.self) {
                self = .double(d)
            } else {
                self = .string(try c.decode(String.self))
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .int(let i):
            var c = encoder.singleValueContainer()
            try c.encode(i)
        case .double(let d):
            var c = encoder.singleValueContainer()
            try c.encode(d)
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .array(let items):
            var c = encoder.unkeyedContainer()
            for item in items { try c.encode(item) }
        case .object(let pairs):
            var c = encoder.container(keyedBy: AnyKey.self)
            for p in pairs { try c.encode(p.value, forKey: AnyKey(stringValue: p.key)) }
        }
    }
}
