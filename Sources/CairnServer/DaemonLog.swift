import Foundation
import Logging

/// The daemon's log lines: time, level, the message, then its metadata as key=value (values with
/// spaces quoted), so an operator reads what happened first and the details after it.
public struct DaemonLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let output: @Sendable (String) -> Void

    public init(level: Logger.Level, output: @escaping @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data(line.utf8))
    }) {
        logLevel = level
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        for (k, v) in event.metadata ?? [:] { all[k] = v }
        output(Self.format(time: Date(), level: event.level, message: "\(event.message)", metadata: all))
    }

    static let timeFormat: Date.ISO8601FormatStyle = .iso8601

    /// One line: `2026-12-01T23:57:50Z notice cairn serve started classes=fast,standard nodes=...`.
    public static func format(time: Date, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        var line = "\(time.formatted(timeFormat)) \(level) \(message)"
        for key in metadata.keys.sorted() {
            let value = "\(metadata[key]!)"
            let shown = value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) || value.isEmpty
                ? "\"" + value.replacingOccurrences(of: "\"", with: "\\\"") + "\"" : value
            line += " \(key.replacingOccurrences(of: " ", with: "-"))=\(shown)"
        }
        return line + "\n"
    }
}
