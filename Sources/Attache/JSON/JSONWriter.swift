import Foundation

// Output: Envoy resources → bytes. One writer for every file Attaché produces, so that identical input gives
// byte-identical output: keys in the order the types write them, no dictionaries, no timestamps.
//
// The writer streams: types write their fields straight into one byte buffer, with no tree of values in
// between (a large output is tens of megabytes; building a tree first would cost more than writing it).

/// Something that writes itself as JSON: each Envoy type writes its fields in proto order.
public protocol JSONRepresentable {
    func write(to json: inout JSONWriter)
}

/// A JSON object whose fields can also be written into another object (a DiscoveryResponse adds `@type`).
public protocol JSONObjectRepresentable: JSONRepresentable {
    func writeFields(to json: inout JSONWriter)
}

extension JSONObjectRepresentable {
    public func write(to json: inout JSONWriter) {
        json.object { writeFields(to: &$0) }
    }
}

/// "\n" and 256 spaces, allocated once and never freed: a line break is a slice of it, appended without the
/// reference counting a Swift array would cost (over 600,000 line breaks at 10,000 Mappings).
nonisolated(unsafe) private let lineBreaks: UnsafeBufferPointer<UInt8> = {
    let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 257)
    buffer.initialize(repeating: UInt8(ascii: " "))
    buffer[0] = UInt8(ascii: "\n")
    return UnsafeBufferPointer(buffer)
}()

/// A streaming JSON writer: two-space indentation, `"key": value`, a final newline from `render`; or, `compact`,
/// no line breaks or indentation at all (`{"key":value}`), for files only machines read (the sidecar's xDS files:
/// Envoy parses about half the bytes).
///
/// Not copyable: a writer is passed `inout` from container to container, and its buffer has one owner.
public struct JSONWriter: ~Copyable {
    private var buffer: ByteBuffer
    /// Where full buffers go when writing straight to a file; nil keeps everything in `bytes`.
    private var sink: ((UnsafeRawBufferPointer) throws -> Void)?
    private var sinkError: Error?
    private static let flushThreshold = 1 << 18
    /// Bytes already handed to the sink: `buffer` holds the ones after them.
    private var flushed = 0
    private var indent = 0
    private var depth = 0
    /// No element has been written yet in the innermost open container.
    private var isFirst = true
    /// A key was just written: the next value follows it on the same line.
    private var afterKey = false
    private var compact = false

    public init(capacity: Int = 1 << 12, compact: Bool = false) {
        buffer = ByteBuffer(capacity: capacity)
        self.compact = compact
    }

    /// What has been written and not yet handed to a sink (a copy).
    public var bytes: [UInt8] { buffer.array }

    /// A writer that hands its bytes to `sink` in chunks of about 256 KB, so that a large file never sits in
    /// memory whole. Call `finish()` at the end.
    public init(sink: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.sink = sink
        buffer = ByteBuffer(capacity: JSONWriter.flushThreshold + 4096)
    }

    /// Appends the final newline, flushes what is left to the sink, and rethrows the first error the sink raised.
    public mutating func finish() throws {
        buffer.append(UInt8(ascii: "\n"))
        flush()
        if let sinkError { throw sinkError }
    }

    private mutating func flushIfFull() {
        if sink != nil, buffer.count >= JSONWriter.flushThreshold { flush() }
    }

    private mutating func flush() {
        guard let sink, sinkError == nil, !buffer.isEmpty else { return }
        do {
            try sink(buffer.contents)
        } catch {
            sinkError = error
        }
        flushed += buffer.count
        buffer.removeAll()
    }

    /// The bytes `body` writes, with a final newline.
    public static func render(capacity: Int = 1 << 12, _ body: (inout JSONWriter) -> Void) -> [UInt8] {
        var writer = JSONWriter(capacity: capacity)
        body(&writer)
        writer.buffer.append(UInt8(ascii: "\n"))
        return writer.buffer.array
    }

    /// The bytes of one value, with a final newline.
    public static func render(_ value: some JSONRepresentable, capacity: Int = 1 << 12) -> [UInt8] {
        render(capacity: capacity) { value.write(to: &$0) }
    }

    // MARK: values

    /// Starts a value: after a key, nothing; in a container, a comma (unless first) and a new indented line.
    private mutating func beginValue() {
        if afterKey {
            afterKey = false
            return
        }
        guard depth > 0 else { return }
        if !isFirst { buffer.append(UInt8(ascii: ",")) }
        isFirst = false
        newline()
    }

    /// A newline and this writer's indentation, appended in one piece.
    private mutating func newline() {
        appendLineBreak(indent: indent)
    }

    private mutating func appendLineBreak(indent: Int) {
        if !compact { buffer.appendLineBreak(indent: indent) }
    }

    /// Leaves the place of the next value empty and says where it is: its offset in the whole output (flushed
    /// bytes included) and the indentation its lines must have. The caller puts a value there afterwards (Output's
    /// `EmbeddingWriter` copies in a file rendered earlier); until then the output is not valid JSON.
    public mutating func reserveValue() -> ValuePlace {
        beginValue()
        return ValuePlace(offset: flushed + buffer.count, indent: indent)
    }

    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        container(open: UInt8(ascii: "{"), close: UInt8(ascii: "}"), body)
    }

    public mutating func array(_ body: (inout JSONWriter) -> Void) {
        container(open: UInt8(ascii: "["), close: UInt8(ascii: "]"), body)
    }

    private mutating func container(open: UInt8, close: UInt8, _ body: (inout JSONWriter) -> Void) {
        beginValue()
        buffer.append(open)
        indent += 2
        depth += 1
        isFirst = true
        body(&self)
        indent -= 2
        depth -= 1
        if !isFirst { newline() }
        buffer.append(close)
        isFirst = false
        flushIfFull()
    }

    public mutating func key(_ name: String) {
        beginValue()
        writeEscaped(name)
        buffer.append(UInt8(ascii: ":"))
        if !compact { buffer.append(UInt8(ascii: " ")) }
        afterKey = true
    }

    public mutating func string(_ value: String) {
        beginValue()
        writeEscaped(value)
    }

    public mutating func int(_ value: Int) {
        beginValue()
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        // Digits from the last, into a small buffer on the stack (an array per number was a heap allocation).
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var rest = value.magnitude
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    private static let trueBytes = Array("true".utf8), falseBytes = Array("false".utf8), nullBytes = Array("null".utf8)

    public mutating func bool(_ value: Bool) {
        beginValue()
        buffer.append(contentsOf: value ? JSONWriter.trueBytes : JSONWriter.falseBytes)
    }

    public mutating func null() {
        beginValue()
        buffer.append(contentsOf: JSONWriter.nullBytes)
    }

    public mutating func value(_ value: some JSONRepresentable) {
        value.write(to: &self)
    }

    // MARK: fields, leaving out what is nil or empty (as proto3 JSON does)

    public mutating func field(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    public mutating func field(_ name: String, _ value: Int?) {
        guard let value else { return }
        key(name)
        int(value)
    }

    public mutating func field(_ name: String, _ value: Bool?) {
        guard let value else { return }
        key(name)
        bool(value)
    }

    public mutating func field(_ name: String, _ value: (some JSONRepresentable)?) {
        guard let value else { return }
        key(name)
        value.write(to: &self)
    }

    /// An object-valued field written by `body`.
    public mutating func field(_ name: String, object body: (inout JSONWriter) -> Void) {
        key(name)
        object(body)
    }

    /// An array field; left out when empty unless `keepEmpty`.
    public mutating func field<T: JSONRepresentable>(_ name: String, array values: [T], keepEmpty: Bool = false) {
        guard keepEmpty || !values.isEmpty else { return }
        key(name)
        array { writer in
            for value in values { value.write(to: &writer) }
        }
    }

    /// `field(_:array:keepEmpty: true)` for long arrays (the route list: tens of thousands of routes, megabytes of
    /// JSON): the elements are rendered in parts on all processors and joined in order, into the same bytes.
    public mutating func field<T: JSONRepresentable & Sendable>(_ name: String, longArray values: [T]) {
        key(name)
        array { writer in writer.elementsSideBySide(values) }
    }

    /// Writes `values` as the next elements of the open array. Each part is rendered by a writer that starts in this
    /// one's state (indentation, depth, whether an element came before), so its bytes are exactly what this writer
    /// would have appended.
    mutating func elementsSideBySide<T: JSONRepresentable & Sendable>(_ values: [T]) {
        guard values.count >= 2048, parallelWidth > 1 else {
            for value in values { value.write(to: &self) }
            return
        }
        let (indent, depth, isFirst, compact) = (self.indent, self.depth, self.isFirst, self.compact)
        let parts = parallelMap(batches(of: Array(values.indices), minimumSize: 1024)) { batch -> [UInt8] in
            var part = JSONWriter(capacity: 1 << 20, compact: compact)
            part.indent = indent
            part.depth = depth
            part.isFirst = isFirst && batch.first == values.startIndex
            for index in batch { values[index].write(to: &part) }
            return part.buffer.array
        }
        for part in parts {
            buffer.append(contentsOf: part)
            flushIfFull()
        }
        self.isFirst = false
    }

    public mutating func field(_ name: String, strings values: [String], keepEmpty: Bool = false) {
        guard keepEmpty || !values.isEmpty else { return }
        key(name)
        array { writer in
            for value in values { writer.string(value) }
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func writeEscaped(_ s: String) {
        buffer.append(UInt8(ascii: "\""))
        // Native and small strings have contiguous UTF-8; anything else (a bridged string) is copied first.
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { writeEscaped(utf8: $0) }
        if done == nil {
            var copy = s
            copy.withUTF8 { writeEscaped(utf8: $0) }
        }
        buffer.append(UInt8(ascii: "\""))
    }

    private mutating func writeEscaped(utf8: UnsafeBufferPointer<UInt8>) {
        // Nearly every string needs no escaping: copy it whole.
        if !utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5c || $0 == 0x7f }) {
            buffer.append(contentsOf: utf8)
            return
        }
        var start = 0
        for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5c || byte == 0x7f {
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
            start = index + 1
            switch byte {
            case UInt8(ascii: "\""): buffer.append(contentsOf: [0x5c, 0x22])
            case UInt8(ascii: "\\"): buffer.append(contentsOf: [0x5c, 0x5c])
            case UInt8(ascii: "\n"): buffer.append(contentsOf: [0x5c, UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): buffer.append(contentsOf: [0x5c, UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): buffer.append(contentsOf: [0x5c, UInt8(ascii: "t")])
            default:
                buffer.append(contentsOf: Array("\\u00".utf8))
                buffer.append(JSONWriter.hex[Int(byte >> 4)])
                buffer.append(JSONWriter.hex[Int(byte & 0xf)])
            }
        }
        buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
    }
}

/// A JSON value built at run time, for the few places that are not typed (tests, `--format json` reports).
public indirect enum JSONValue: Sendable, Equatable, JSONRepresentable {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case int(Int)
    case bool(Bool)
    case null

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.array(let x), .array(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let pairs) = self { return pairs.first(where: { $0.0 == key })?.1 }
        return nil
    }

    public func write(to json: inout JSONWriter) {
        switch self {
        case .object(let pairs):
            json.object { writer in
                for (key, value) in pairs {
                    writer.key(key)
                    value.write(to: &writer)
                }
            }
        case .array(let items):
            json.array { writer in
                for item in items { item.write(to: &writer) }
            }
        case .string(let s): json.string(s)
        case .int(let i): json.int(i)
        case .bool(let b): json.bool(b)
        case .null: json.null()
        }
    }
}

/// Where a writer left a value out (`JSONWriter.reserveValue`): the offset of the output it goes at, and the
/// indentation of the lines around it.
public struct ValuePlace: Sendable, Equatable {
    public var offset: Int
    public var indent: Int
}

/// An array of values as one JSON value.
public struct JSONArray<Element: JSONRepresentable>: JSONRepresentable {
    public var elements: [Element]
    public init(_ elements: [Element]) { self.elements = elements }

    public func write(to json: inout JSONWriter) {
        json.array { writer in
            for element in elements { element.write(to: &writer) }
        }
    }
}

/// The bytes a `JSONWriter` has written: a growable buffer appended to through a pointer. An Array's `append`
/// checks uniqueness and capacity through generic code on every call, and a large output is millions of small
/// appends.
struct ByteBuffer: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    var isEmpty: Bool { count == 0 }

    /// The bytes written so far; valid until the next append.
    var contents: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    var array: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// A newline and `indent` spaces, appended in one piece.
    mutating func appendLineBreak(indent: Int) {
        guard indent < lineBreaks.count else {
            append(UInt8(ascii: "\n"))
            for _ in 0..<indent { append(UInt8(ascii: " ")) }
            return
        }
        append(lineBreaks.baseAddress.unsafelyUnwrapped, count: indent + 1)
    }

    mutating func removeAll() { count = 0 }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        if count == capacity { grow(toHold: count + 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(contentsOf bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        append(source, count: bytes.count)
    }

    @inline(__always)
    mutating func append(_ source: UnsafePointer<UInt8>, count added: Int) {
        if count + added > capacity { grow(toHold: count + added) }
        (base + count).update(from: source, count: added)
        count += added
    }

    mutating func append(contentsOf bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append(contentsOf: $0) }
    }

    private mutating func grow(toHold needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }
}
