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
public enum ScalarStyle: Sendable, Equatable {
    case plain, singleQuoted, doubleQuoted, literal, folded
}

/// One YAML node: a scalar, a sequence or a mapping, with the position where it starts.
///
/// Positions travel with the node but take no part in equality, so two trees written differently compare equal.
public struct Node: Sendable {
    public enum Content: Sendable {
        case scalar(Scalar)
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

    public var content: Content
    public var mark: Mark
    /// The explicit tag, if the document wrote one (`!!str`, `!!int`, ...), in its long form.
    public var tag: String?

    public init(_ content: Content, mark: Mark, tag: String? = nil) {
        self.content = content
        self.mark = mark
        self.tag = tag
    }

    /// A scalar node, mostly for tests.
    public init(scalar text: String, style: ScalarStyle = .plain, mark: Mark = Mark(line: 1, column: 1)) {
        self.init(.scalar(Scalar(text: text, style: style)), mark: mark)
    }

    public var scalar: Scalar? {
        if case .scalar(let s) = content { return s }
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
        for pair in pairs.reversed() where pair.key.scalar?.text == key {
            return pair.value
        }
        return nil
    }

    /// The key node under which `key` appears, for diagnostics that point at the key rather than the value.
    public func keyNode(_ key: String) -> Node? {
        guard case .mapping(let pairs) = content else { return nil }
        return pairs.last(where: { $0.key.scalar?.text == key })?.key
    }

    /// The resolved value of a scalar: its YAML 1.1 type when plain (or explicitly tagged), else a string.
    public var resolved: ResolvedScalar? {
        guard let s = scalar else { return nil }
        return s.resolve(tag: tag)
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

extension Node: Equatable {
    /// Structural equality: content and tag, never position.
    public static func == (a: Node, b: Node) -> Bool {
        guard a.tag == b.tag else { return false }
        switch (a.content, b.content) {
        case (.scalar(let x), .scalar(let y)): return x == y
        case (.sequence(let x), .sequence(let y)): return x == y
        case (.mapping(let x), .mapping(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }
}

/// The text of a scalar and the style it was written in.
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
    public func resolve(tag: String?) -> ResolvedScalar {
        if let tag {
            switch tag {
            case "tag:yaml.org,2002:str": return .string(text)
            case "tag:yaml.org,2002:int":
                if let i = Scalar.parseInt(text) { return .int(i) }
                return .string(text)
            case "tag:yaml.org,2002:float":
                if let d = Scalar.parseFloat(text) ?? Scalar.parseInt(text).map(Double.init) { return .float(d) }
                return .string(text)
            case "tag:yaml.org,2002:bool":
                if let b = Scalar.parseBool(text) { return .bool(b) }
                return .string(text)
            case "tag:yaml.org,2002:null": return .null
            default: break
            }
        }
        guard style == .plain else { return .string(text) }
        if text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL" { return .null }
        if let b = Scalar.parseBool(text) { return .bool(b) }
        if let first = text.utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
            || first == UInt8(ascii: ".") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
        {
            if let i = Scalar.parseInt(text) { return .int(i) }
            if let d = Scalar.parseFloat(text) { return .float(d) }
        }
        return .string(text)
    }

    static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": return true
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": return false
        default: return nil
        }
    }

    static func parseInt(_ text: String) -> Int? {
        var body = Substring(text).filter { $0 != "_" }[...]
        var negative = false
        if body.first == "-" || body.first == "+" {
            negative = body.first == "-"
            body = body.dropFirst()
        }
        guard !body.isEmpty, !body.contains(where: { $0 == "-" || $0 == "+" }) else { return nil }
        let magnitude: Int?
        if body.hasPrefix("0x") {
            magnitude = Int(body.dropFirst(2), radix: 16)
        } else if body.hasPrefix("0o") {
            magnitude = Int(body.dropFirst(2), radix: 8)
        } else if body.hasPrefix("0b") {
            magnitude = Int(body.dropFirst(2), radix: 2)
        } else if body.count > 1, body.hasPrefix("0") {
            magnitude = Int(body.dropFirst(), radix: 8)
        } else {
            magnitude = Int(body, radix: 10)
        }
        guard let magnitude else { return nil }
        return negative ? -magnitude : magnitude
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
