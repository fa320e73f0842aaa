/// A position in a source text, 1-based, as editors show it.
public struct Mark: Hashable, Sendable, Comparable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (a: Mark, b: Mark) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }
}

/// How a scalar was written. Only plain scalars are typed (YAML 1.1 rules); quoted and block scalars are strings.
public enum ScalarStyle: UInt8, Sendable, Equatable {
    case plain, singleQuoted, doubleQuoted, literal, folded
}

/// One YAML node: a scalar, a sequence or a mapping, with the position where it starts.
///
/// Positions travel with the node but take no part in equality, so two trees written differently compare equal.
/// Stored compactly (32-bit positions, one-byte style and tag): a large input holds millions of nodes.
public struct Node: Sendable {
    public enum Content: Sendable {
        case scalar(String)
        case sequence([Node])
        case mapping([Pair])
    }

    /// A key/value entry of a mapping, kept in document order.
    public struct Pair: Sendable {
        public var key: Node
        public var value: Node
        public init(key: Node, value: Node) {
            self.key = key
            self.value = value
        }
    }

    /// The explicit tags Attaché acts on; any other tag is `.other` and does not change how a scalar is read.
    public enum Tag: UInt8, Sendable {
        case none, string, int, float, bool, null, merge, other

        init(_ text: String?) {
            switch text {
            case nil: self = .none
            case "tag:yaml.org,2002:str"?: self = .string
            case "tag:yaml.org,2002:int"?: self = .int
            case "tag:yaml.org,2002:float"?: self = .float
            case "tag:yaml.org,2002:bool"?: self = .bool
            case "tag:yaml.org,2002:null"?: self = .null
            case "tag:yaml.org,2002:merge"?: self = .merge
            default: self = .other
            }
        }
    }

    public var content: Content
    private var line: Int32
    private var column: Int32
    /// How a scalar was written (`.plain` for collections).
    public var style: ScalarStyle
    public var tag: Tag

    public init(_ content: Content, mark: Mark, style: ScalarStyle = .plain, tag: Tag = .none) {
        self.content = content
        line = Int32(clamping: mark.line)
        column = Int32(clamping: mark.column)
        self.style = style
        self.tag = tag
    }

    /// A scalar node, mostly for tests.
    public init(scalar text: String, style: ScalarStyle = .plain, mark: Mark = Mark(line: 1, column: 1)) {
        self.init(.scalar(text), mark: mark, style: style)
    }

    public var mark: Mark {
        get { Mark(line: Int(line), column: Int(column)) }
        set {
            line = Int32(clamping: newValue.line)
            column = Int32(clamping: newValue.column)
        }
    }

    /// The text of a scalar node, or nil.
    public var scalarText: String? {
        if case .scalar(let text) = content { return text }
        return nil
    }

    public var scalar: Scalar? {
        if case .scalar(let text) = content { return Scalar(text: text, style: style) }
        return nil
    }

    public var sequence: [Node]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    public var mapping: [Pair]? {
        if case .mapping(let pairs) = content { return pairs }
        return nil
    }

    /// The value under a string key of a mapping node (the last one if the key is repeated), or nil.
    public subscript(key: String) -> Node? {
        guard case .mapping(let pairs) = content else { return nil }
        var index = pairs.count
        while index > 0 {
            index -= 1
            if case .scalar(let text) = pairs[index].key.content, isSameKey(text, key) { return pairs[index].value }
        }
        return nil
    }

    /// The resolved value of a scalar: its YAML 1.1 type when plain (or explicitly tagged), else a string.
    public var resolved: ResolvedScalar? {
        guard case .scalar(let text) = content else { return nil }
        return Scalar(text: text, style: style).resolve(tag: tag)
    }

    /// A short name for the node's type, for messages: "a string", "a list", ...
    public var typeDescription: String {
        switch content {
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        case .scalar:
            switch resolved {
            case .null?: return "null"
            case .bool?: return "a boolean"
            case .int?: return "an integer"
            case .float?: return "a number"
            case .string?, nil: return "a string"
            }
        }
    }

}

/// Whether two mapping keys are the same key: equal strings of the same UTF-8 length. Spellings of different
/// lengths are different code points and different keys, as in the Python dictionaries Emissary reads YAML into
/// (Swift's `==` alone would match them as canonically equivalent). Comparing the stored lengths first also
/// rejects nearly every other key without comparing text: decoders look up dozens of absent fields per object.
@inline(__always)
public func isSameKey(_ a: String, _ b: String) -> Bool {
    a.utf8.count == b.utf8.count && a == b
}

/// A key as a set element under `isSameKey` (equal keys hash equally: `String` hashes canonically).
struct MappingKey: Hashable {
    let text: String
    static func == (a: MappingKey, b: MappingKey) -> Bool { isSameKey(a.text, b.text) }
    func hash(into hasher: inout Hasher) { hasher.combine(text) }
}

extension Node: Equatable {
    /// Structural equality: content and tag, never position.
    public static func == (a: Node, b: Node) -> Bool {
        guard a.tag == b.tag else { return false }
        switch (a.content, b.content) {
        case (.scalar(let x), .scalar(let y)): return x == y && a.style == b.style
        case (.sequence(let x), .sequence(let y)): return x == y
        case (.mapping(let x), .mapping(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }
}

/// The text of a scalar and the style it was written in (a view of a scalar node).
public struct Scalar: Sendable, Equatable {
    public var text: String
    public var style: ScalarStyle

    public init(text: String, style: ScalarStyle) {
        self.text = text
        self.style = style
    }

    /// YAML 1.1 resolution, as PyYAML (which reads Emissary's annotations) and Kubernetes tools do it for the
    /// common cases: `true/false/yes/no/on/off` in their three casings are booleans, `~`/`null`/empty is null,
    /// decimal, `0x`, `0o` and leading-zero octal integers, and floats including `.inf`/`.nan`.
    /// Quoted and block scalars are always strings: that is what makes `"true"` differ from `true`.
    public func resolve(tag: Node.Tag = .none) -> ResolvedScalar {
        switch tag {
        case .string: return .string(text)
        case .int:
            if let i = Scalar.parseInt(text) { return .int(i) }
            return .string(text)
        case .float:
            if let d = Scalar.parseFloat(text) ?? Scalar.parseInt(text).map(Double.init) { return .float(d) }
            return .string(text)
        case .bool:
            if let b = Scalar.parseBool(text) { return .bool(b) }
            return .string(text)
        case .null: return .null
        case .none, .merge, .other: break
        }
        guard style == .plain else { return .string(text) }
        // Fast path: most plain scalars are names and paths, and YAML 1.1 can only type a plain scalar that starts
        // with one of these characters.
        guard let first = text.utf8.first else { return .null }
        switch first {
        case UInt8(ascii: "~"), UInt8(ascii: "n"), UInt8(ascii: "N"):
            if text == "~" || text == "null" || text == "Null" || text == "NULL" { return .null }
        case UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "y"),
            UInt8(ascii: "Y"),
            UInt8(ascii: "o"), UInt8(ascii: "O"):
            break
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if let i = Scalar.parseInt(text) { return .int(i) }
            if let d = Scalar.parseFloat(text) { return .float(d) }
            return .string(text)
        default:
            return .string(text)
        }
        if let b = Scalar.parseBool(text) { return .bool(b) }
        return .string(text)
    }

    static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": return true
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": return false
        default: return nil
        }
    }

    /// YAML 1.1 integers: decimal, `0x`, `0o`, `0b`, leading-zero octal, `_` separators, a sign. No allocation:
    /// this runs for every plain scalar that starts like a number.
    static func parseInt(_ text: String) -> Int? {
        var utf8 = Substring(text).utf8[...]
        var negative = false
        if let sign = utf8.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            utf8 = utf8.dropFirst()
        }
        guard !utf8.isEmpty else { return nil }
        var radix = 10
        if utf8.count > 1, utf8.first == UInt8(ascii: "0") {
            let second = utf8[utf8.index(after: utf8.startIndex)]
            switch second {
            case UInt8(ascii: "x"):
                radix = 16
                utf8 = utf8.dropFirst(2)
            case UInt8(ascii: "o"):
                radix = 8
                utf8 = utf8.dropFirst(2)
            case UInt8(ascii: "b"):
                radix = 2
                utf8 = utf8.dropFirst(2)
            default:
                radix = 8
                utf8 = utf8.dropFirst()
            }
            guard !utf8.isEmpty else { return nil }
        }
        var value = 0
        var sawDigit = false
        for byte in utf8 {
            if byte == UInt8(ascii: "_") { continue }
            let digit: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = Int(byte - UInt8(ascii: "A")) + 10
            default: return nil
            }
            guard digit < radix else { return nil }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: radix)
            let (sum, overflow2) = shifted.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = sum
            sawDigit = true
        }
        guard sawDigit else { return nil }
        return negative ? -value : value
    }

    static func parseFloat(_ text: String) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        let body = text.filter { $0 != "_" }
        // YAML floats need a digit; Double("inf") or Double("nan") would accept words YAML reads as strings.
        guard body.contains(where: { $0.isASCII && $0.isNumber }),
            body.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) })
        else { return nil }
        return Double(body)
    }
}

/// The typed value of a scalar.
public enum ResolvedScalar: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
}
