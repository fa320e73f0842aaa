// Diagnostics: every problem Attaché reports, with a stable code, a severity, a position and the object.
//
// Printed as `file:line:col: severity: [Code] message (Kind namespace/name)`, the shape compilers use, so that
// editors and CI annotators can jump to the line.

/// How bad a problem is. Errors reject an object (or, for input errors, the whole run); warnings and notes
/// only inform.
public enum Severity: String, Sendable, Comparable {
    case error, warning, note

    private var rank: Int {
        switch self {
        case .error: return 0
        case .warning: return 1
        case .note: return 2
        }
    }

    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// A place in an input file, 1-based.
public struct SourceLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        if a.file != b.file { return a.file.utf8.lexicographicallyPrecedes(b.file.utf8) }
        return (a.line, a.column) < (b.line, b.column)
    }
}

/// The Kubernetes object a diagnostic is about: `Mapping prod/canary`.
public struct ObjectReference: Hashable, Sendable, CustomStringConvertible {
    public var kind: String
    public var namespace: String
    public var name: String

    public init(kind: String, namespace: String, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public var description: String { "\(kind) \(namespace)/\(name)" }
}

/// One reported problem.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public var severity: Severity
    public var code: DiagnosticCode
    public var message: String
    public var location: SourceLocation?
    public var object: ObjectReference?

    public init(
        _ severity: Severity, _ code: DiagnosticCode, _ message: String,
        at location: SourceLocation?, object: ObjectReference? = nil
    ) {
        self.severity = severity
        self.code = code
        self.message = message
        self.location = location
        self.object = object
    }

    public var description: String {
        var line = ""
        if let location { line += "\(location): " }
        line += "\(severity.rawValue): [\(code.rawValue)] \(message)"
        if let object { line += " (\(object))" }
        return line
    }

    /// Report order: by file and position, then severity, code and text, so that output does not depend on the
    /// order in which stages happened to find things.
    public static func reportOrder(_ a: Diagnostic, _ b: Diagnostic) -> Bool {
        switch (a.location, b.location) {
        case (nil, .some): return true
        case (.some, nil): return false
        case (.some(let x), .some(let y)) where x != y: return x < y
        default: break
        }
        if a.severity != b.severity { return a.severity < b.severity }
        if a.code != b.code { return a.code.rawValue < b.code.rawValue }
        return a.message.utf8.lexicographicallyPrecedes(b.message.utf8)
    }
}

/// Collects diagnostics as a stage runs. Stages take one `inout` and add to it.
public struct DiagnosticLog: Sendable {
    public private(set) var items: [Diagnostic] = []

    public init() {}

    public mutating func add(_ diagnostic: Diagnostic) { items.append(diagnostic) }

    public mutating func error(
        _ code: DiagnosticCode, _ message: String, at location: SourceLocation?, object: ObjectReference? = nil
    ) {
        items.append(Diagnostic(.error, code, message, at: location, object: object))
    }

    public mutating func warning(
        _ code: DiagnosticCode, _ message: String, at location: SourceLocation?, object: ObjectReference? = nil
    ) {
        items.append(Diagnostic(.warning, code, message, at: location, object: object))
    }

    public mutating func note(
        _ code: DiagnosticCode, _ message: String, at location: SourceLocation?, object: ObjectReference? = nil
    ) {
        items.append(Diagnostic(.note, code, message, at: location, object: object))
    }

    public var hasErrors: Bool { items.contains { $0.severity == .error } }

    /// The diagnostics in report order, each once.
    public var sorted: [Diagnostic] {
        var seen = Set<Diagnostic>()
        return items.filter { seen.insert($0).inserted }.sorted(by: Diagnostic.reportOrder)
    }
}

/// Input text as diagnostics quote it: whole when short, else its first 60 characters and the length, so that a
/// hostile 64 KB value does not make a 64 KB line.
func abbreviated(_ text: String) -> String {
    // At most 80 bytes is at most 80 characters: the common case needs no (slow) counting of characters.
    guard text.utf8.count > 80, text.count > 80 else { return text }
    return "\(text.prefix(60))… (\(text.utf8.count) bytes)"
}

extension Diagnostic {
    /// A diagnostic as data, for `--format json` reports.
    var json: JSONValue {
        .object([
            ("severity", .string(severity.rawValue)), ("code", .string(code.rawValue)), ("message", .string(message)),
            ("location", location.map { .string($0.description) } ?? .null),
            ("object", object.map { .string("\($0.kind) \($0.namespace)/\($0.name)") } ?? .null),
            ("text", .string(description)),
        ])
    }
}
