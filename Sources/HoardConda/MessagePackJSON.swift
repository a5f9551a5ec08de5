/// Writes MessagePack values (records of CEP-16 shards) as JSON, the way repodata.json holds
/// them: maps in their order, `sha256`/`md5` bytes (or arrays of ints, from older producers) as
/// lowercase hex, other binary as hex too, non-finite floats and extension values as null.
public enum MessagePackJSON {
    public static func write(_ value: MessagePackValue, into out: inout [UInt8]) {
        switch value {
        case .nil, .ext: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let v): out.append(contentsOf: String(v).utf8)
        case .uint(let v): out.append(contentsOf: String(v).utf8)
        case .float(let f): number(Double(f), into: &out)
        case .double(let d): number(d, into: &out)
        case .string(let s): string(s, into: &out)
        case .binary(let b): hex(b, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (k, item) in items.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .map(let pairs):
            out.append(UInt8(ascii: "{"))
            for (k, pair) in pairs.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                let key = pair.key.stringValue ?? keyText(pair.key)
                string(key, into: &out)
                out.append(UInt8(ascii: ":"))
                if key == "sha256" || key == "md5", case .array(let items) = pair.value, let bytes = smallInts(items) {
                    hex(bytes, into: &out)
                } else {
                    write(pair.value, into: &out)
                }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A non-string key (never in repodata) as text, so the output stays a JSON object.
    private static func keyText(_ key: MessagePackValue) -> String {
        var out: [UInt8] = []
        write(key, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func smallInts(_ items: [MessagePackValue]) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(items.count)
        for item in items {
            guard let n = item.unsignedValue, n <= 0xFF else { return nil }
            bytes.append(UInt8(n))
        }
        return bytes
    }

    private static func number(_ d: Double, into out: inout [UInt8]) {
        guard d.isFinite else { out.append(contentsOf: "null".utf8); return }
        out.append(contentsOf: "\(d)".utf8)
    }

    private static func hex(_ bytes: [UInt8], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in bytes {
            out.append(ASCII.hexDigits[Int(b >> 4)])
            out.append(ASCII.hexDigits[Int(b & 0x0F)])
        }
        out.append(UInt8(ascii: "\""))
    }

    static func string(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(ASCII.hexDigits[Int(b >> 4)])
                out.append(ASCII.hexDigits[Int(b & 0x0F)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension ShardGenerator {
    /// A repodata.json made of shard records: `{"info": {"subdir": S}, "packages": {...},
    /// "packages.conda": {...}, "removed": [], "repodata_version": 1}`, each section in the order
    /// given. For a subdir hoard holds shards of but no repodata.json.
    public static func repodata(subdir: String, packages: [MessagePackPair], packagesConda: [MessagePackPair]) -> [UInt8] {
        var out: [UInt8] = []
        MessagePackJSON.write(.map([
            MessagePackPair(.string("info"), .map([MessagePackPair(.string("subdir"), .string(subdir))])),
            MessagePackPair(.string("packages"), .map(packages)),
            MessagePackPair(.string("packages.conda"), .map(packagesConda)),
            MessagePackPair(.string("removed"), .array([])),
            MessagePackPair(.string("repodata_version"), .uint(1)),
        ]), into: &out)
        return out
    }
}
