import Foundation
import HoardHTTP
import Logging

/// Log lines for machines (`--log-format json`): one JSON object a line on stderr, with `time`
/// (ISO 8601, UTC), `level`, `label`, `message`, and every metadata key as a field of its own.
/// Integer and floating-point metadata (status, bytes, durations) are JSON numbers.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        var line = "{\"time\":\(Self.string(Self.timestamp())),\"level\":\(Self.string(event.level.rawValue)),"
        line += "\"label\":\(Self.string(label)),\"message\":\(Self.string("\(event.message)"))"
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) where !["time", "level", "label", "message"].contains(key) {
            line += ",\(Self.string(key)):\(Self.json(value))"
        }
        line += "}\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    private static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return string(text)
        case .stringConvertible(let convertible):
            if let number = convertible as? any BinaryInteger { return "\(number)" }
            if let number = convertible as? Double, number.isFinite { return "\(number)" }
            if let flag = convertible as? Bool { return flag ? "true" : "false" }
            return string(convertible.description)
        case .array(let values): return "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let entries):
            return "{" + entries.sorted { $0.key < $1.key }.map { "\(string($0.key)):\(json($0.value))" }.joined(separator: ",") + "}"
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped. Every string
    /// of a line passes here, so here is the last line of defence for secrets, as in the text
    /// format: a URL token or password that reached a message or a value is redacted (before
    /// escaping, so the line stays valid JSON).
    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in SecretRedaction.redact(text).unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
