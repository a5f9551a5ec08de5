import Foundation
import HoardHTTP
import Logging

/// Log lines for people: `2026-11-23T13:50:01.123Z  INFO hoard: message key=value`, to stderr,
/// with the level coloured when stderr is a terminal.
struct HoardLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    private let colour = isatty(STDERR_FILENO) != 0

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        let rendered = fields.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quoted("\($0.value)"))" }
        let tail = rendered.isEmpty ? "" : " " + rendered.joined(separator: " ")
        let line = "\(Self.timestamp()) \(levelText(event.level)) \(label): \(event.message)\(tail)\n"
        // Last line of defence for secrets: any URL token or password that reached a message or a value.
        FileHandle.standardError.write(Data(SecretRedaction.redact(line).utf8))
    }

    private func levelText(_ level: Logger.Level) -> String {
        let text = level.rawValue.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0)
        guard colour else { return text }
        let code: String
        switch level {
        case .trace, .debug: code = "2"
        case .info: code = "32"
        case .notice: code = "36"
        case .warning: code = "33"
        case .error, .critical: code = "31;1"
        }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    private static func quoted(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) ? "\"\(value.replacingOccurrences(of: "\"", with: "\\\""))\"" : value
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
