import Foundation

/// What a long-running command (the sidecar) reports as it goes: one line per event on standard error, with the
/// time and a level. `text` is for people (`2026-12-01T15:20:01.123Z info version 3f2a…: 10 mappings, ...`),
/// `json` for log pipelines: one object per line with `time`, `level`, `msg` and the event's fields.
public struct EventLog {
    public enum Format: String, Sendable {
        case text, json
    }

    public enum Level: String, Sendable {
        case info, warning, error
    }

    let format: Format
    let write: (String) -> Void
    let now: () -> Date

    public init(format: Format, write: @escaping (String) -> Void, now: @escaping () -> Date = Date.init) {
        self.format = format
        self.write = write
        self.now = now
    }

    func info(_ message: String, _ fields: [(String, JSONValue)] = []) { log(.info, message, fields) }
    func warning(_ message: String, _ fields: [(String, JSONValue)] = []) { log(.warning, message, fields) }
    func error(_ message: String, _ fields: [(String, JSONValue)] = []) { log(.error, message, fields) }

    /// A diagnostic of the input, at its own level (a note is info).
    func diagnostic(_ diagnostic: Diagnostic) {
        let level: Level =
            switch diagnostic.severity {
            case .error: .error
            case .warning: .warning
            case .note: .info
            }
        var text = ""
        if let location = diagnostic.location { text += "\(location): " }
        text += "[\(diagnostic.code.rawValue)] \(diagnostic.message)"
        if let object = diagnostic.object { text += " (\(object))" }
        var fields: [(String, JSONValue)] = [("code", .string(diagnostic.code.rawValue))]
        if let location = diagnostic.location { fields.append(("location", .string(location.description))) }
        if let object = diagnostic.object { fields.append(("object", .string(object.description))) }
        log(level, text, fields)
    }

    func log(_ level: Level, _ message: String, _ fields: [(String, JSONValue)]) {
        let time = Self.timestamp(now())
        switch format {
        case .text:
            write("\(time) \(level.rawValue) \(message)")
        case .json:
            let object = JSONValue.object(
                [("time", .string(time)), ("level", .string(level.rawValue)), ("msg", .string(message))] + fields)
            write(Self.oneLine(JSONWriter.render(object, capacity: 256)))
        }
    }

    /// JSON rendered by `JSONWriter` on one line: each line break goes with the indentation after it. A string
    /// value never holds a raw line feed (the writer escapes it), so only the layout changes.
    static func oneLine(_ bytes: [UInt8]) -> String {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                index += 1
                while index < bytes.count, bytes[index] == UInt8(ascii: " ") { index += 1 }
                continue
            }
            result.append(bytes[index])
            index += 1
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// RFC 3339 in UTC with milliseconds, as log pipelines parse it.
    static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(milliseconds % 1000))
    }
}
