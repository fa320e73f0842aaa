// Ambassador resources: Kubernetes objects → typed Mappings, the `ambassador` Module, Services and endpoints.
//
// Decoding is by hand from the node tree, not Codable: every problem must carry its line and column, and
// Ambassador's loose typing (`weight: "20"`, `headers: {gray: true}`) needs explicit rules.

import YAML

/// Reads the fields of one object, reporting each problem at the node that caused it.
///
/// An error marks the object as rejected (`isValid` false); the caller drops it and keeps the rest of the input.
struct FieldReader {
    /// How strictly scalar types are read.
    enum Typing {
        /// As a CRD's OpenAPI schema types them (Mappings): a field declared a string must be a YAML string, an
        /// integer an integer, a boolean a boolean. Kubernetes refuses anything else, so in Emissary such an object
        /// does not exist; here it is rejected with the type that was expected.
        case schema
        /// As Ambassador's Python read untyped settings (the Module's `config`): `prefix: 2024` is the text
        /// "2024", `"3000"` is the integer 3000, `"true"` is true.
        case loose
    }

    let object: KubernetesObject
    let node: Node
    let typing: Typing
    /// Where `node` sits, for messages: `keepalive.` for the fields of a Mapping's `keepalive`.
    let path: String
    var log = DiagnosticLog()
    private(set) var isValid = true

    init(object: KubernetesObject, node: Node? = nil, typing: Typing = .loose, path: String = "") {
        self.object = object
        self.node = node ?? object.fields
        self.typing = typing
        self.path = path
    }

    /// Reads the object-valued field `key` with `body`, on a reader of its own whose problems count as this one's;
    /// nil when the field is absent, and (with a type error) when it is not a mapping.
    mutating func nested<T>(_ key: String, _ body: (inout FieldReader) -> T) -> T? {
        guard let value = node[key], value.resolved != .null else { return nil }
        guard value.mapping != nil else {
            typeError(key, expected: "a mapping", got: value)
            return nil
        }
        return within(value, path: path + key + ".", body)
    }

    /// Runs `body` on a reader of `value` (named `path` in messages) and takes over what it reported.
    mutating func within<T>(_ value: Node, path: String, _ body: (inout FieldReader) -> T) -> T {
        var inner = FieldReader(object: object, node: value, typing: typing, path: path)
        let result = body(&inner)
        log.add(contentsOf: inner.log)
        if !inner.isValid { isValid = false }
        return result
    }

    func location(_ node: Node) -> SourceLocation { object.location(of: node) }

    mutating func error(_ code: DiagnosticCode, _ message: String, at node: Node) {
        log.error(code, message, at: location(node), object: object.reference)
        isValid = false
    }

    mutating func warning(_ code: DiagnosticCode, _ message: String, at node: Node) {
        log.warning(code, message, at: location(node), object: object.reference)
    }

    mutating func note(_ code: DiagnosticCode, _ message: String, at node: Node) {
        log.note(code, message, at: location(node), object: object.reference)
    }

    /// True when the field is present with a non-null value.
    func has(_ key: String) -> Bool {
        guard let value = node[key] else { return false }
        return value.resolved != .null
    }

    mutating func typeError(_ key: String, expected: String, got value: Node) {
        error(.mappingFieldType, "`\(path)\(key)` must be \(expected), but it is \(value.typeDescription)", at: value)
    }

    /// A string field. With loose typing, numbers written plainly are read as their text (`prefix: 2024`);
    /// booleans, lists and mappings are type errors either way.
    mutating func string(_ key: String, required: Bool = false) -> String? {
        guard let value = node[key], value.resolved != .null else {
            if required { error(.mappingMissingField, "required field `\(path)\(key)` is missing", at: node) }
            return nil
        }
        return scalarText(value, key: key)
    }

    mutating func scalarText(_ value: Node, key: String) -> String? {
        switch value.resolved {
        case .string(let s)?: return s
        case .int?, .float?, .bool?:
            let text = value.scalar?.text ?? ""
            if typing == .loose, value.resolved?.boolValue == nil { return text }
            error(
                .mappingFieldType,
                "`\(path)\(key)` must be a string, but it is \(value.typeDescription) (write \"\(abbreviated(text))\" in quotes)",
                at: value)
            return nil
        default:
            typeError(key, expected: "a string", got: value)
            return nil
        }
    }

    mutating func bool(_ key: String) -> Bool? {
        guard let value = node[key], value.resolved != .null else { return nil }
        if case .bool(let b)? = value.resolved { return b }
        // Loosely typed settings quote booleans often enough (`"true"`), and Ambassador's Python took them.
        if typing == .loose, case .string(let s)? = value.resolved,
            let b = Scalar(text: s, style: .plain).resolve().boolValue
        {
            return b
        }
        var quotedBool = false
        if case .string(let s)? = value.resolved {
            quotedBool = Scalar(text: s, style: .plain).resolve().boolValue != nil
        }
        typeError(key, expected: quotedBool ? "true or false (unquoted)" : "true or false", got: value)
        return nil
    }

    /// An integer field. With loose typing, a string of digits (`"3000"`) is accepted, as Ambassador's Python did.
    mutating func integer(_ key: String, range: ClosedRange<Int>? = nil) -> Int? {
        guard let value = node[key], value.resolved != .null else { return nil }
        var result: Int?
        switch value.resolved {
        case .int(let i)?: result = i
        case .float(let d)? where typing == .loose && d == d.rounded() && abs(d) < 1e15: result = Int(d)
        case .string(let s)? where typing == .loose: result = Int(s.trimmingSpaces)
        default: break
        }
        guard let result else {
            let hint =
                switch value.resolved {
                case .string(let s)? where Int(s.trimmingSpaces) != nil: " (unquoted)"
                case .float?: " (no fraction)"
                default: ""
                }
            typeError(key, expected: "an integer" + hint, got: value)
            return nil
        }
        if let range, !range.contains(result) {
            error(
                .mappingFieldValue,
                "`\(path)\(key)` must be between \(range.lowerBound) and \(range.upperBound), but it is \(result)",
                at: value)
            return nil
        }
        return result
    }

    /// A mapping of names to values, with the value nodes kept for the caller: in document order, or (`sorted`) in
    /// the byte order of the names, which is the order Emissary reads such a map in (its Go half marshals maps with
    /// sorted keys). A name given twice counts once, with its last value, as in every Kubernetes client.
    mutating func entries(_ key: String, sorted: Bool = false) -> [(name: String, value: Node)]? {
        guard let value = node[key], value.resolved != .null else { return nil }
        guard let pairs = value.mapping else {
            typeError(key, expected: "a mapping", got: value)
            return nil
        }
        var result: [(String, Node)] = []
        for pair in pairs {
            guard case .string(let name)? = pair.key.resolved ?? nil, !name.isEmpty else {
                let what = pair.key.resolved == .string("") ? "empty" : pair.key.typeDescription
                error(
                    .mappingFieldType, "keys of `\(path)\(key)` must be non-empty strings, but one is \(what)",
                    at: pair.key)
                continue
            }
            if let earlier = result.firstIndex(where: { isSameKey($0.0, name) }) { result.remove(at: earlier) }
            result.append((name, pair.value))
        }
        return sorted ? result.sorted { codePointLess($0.0, $1.0) } : result
    }

    /// A list of strings; a single string is a list of one (Ambassador's StringOrStringList) unless
    /// `singleStringAllowed` is false (the v3alpha1 schema types these fields as lists only).
    mutating func stringList(_ key: String, singleStringAllowed: Bool = true) -> [String]? {
        guard let value = node[key], value.resolved != .null else { return nil }
        if value.scalar != nil, singleStringAllowed { return scalarText(value, key: key).map { [$0] } }
        guard let items = value.sequence else {
            typeError(
                key, expected: singleStringAllowed ? "a string or a list of strings" : "a list of strings", got: value)
            return nil
        }
        var result: [String] = []
        for item in items {
            if let text = scalarText(item, key: key) { result.append(text) }
        }
        return result
    }
}

extension FieldReader {
    /// `add_request_headers`/`add_response_headers`: name → string, or name → `{value, append}` (append defaults
    /// to true); the v3alpha1 schema takes only the second form (`stringAllowed` false). Names and values are
    /// checked as Envoy checks them (EnvoyConstraints): a pseudo-header or `host`, a line break, a stray `%`.
    mutating func headerAdditions(_ key: String, stringAllowed: Bool = true) -> [HeaderAddition] {
        var result: [HeaderAddition] = []
        let pairs = entries(key, sorted: typing == .schema) ?? []
        if pairs.count > EnvoyLimits.maxHeadersToAdd, let node = node[key] {
            error(
                .mappingFieldValue,
                "`\(path)\(key)` has \(pairs.count) headers; Envoy takes at most \(EnvoyLimits.maxHeadersToAdd) per route",
                at: node)
            return []
        }
        for (name, value) in pairs {
            if value.scalar != nil, !stringAllowed {
                error(
                    .mappingFieldType,
                    "`\(path)\(key).\(name)` must be a mapping `{value: ..., append: ...}` in a v3alpha1 Mapping, but it is \(value.typeDescription)",
                    at: value)
                continue
            }
            var addition: HeaderAddition?
            if value.mapping != nil {
                var inner = FieldReader(object: object, node: value, typing: typing)
                let text = inner.string("value", required: true)
                let append = inner.bool("append") ?? true
                log.add(contentsOf: inner.log)
                if inner.isValid, let text {
                    addition = HeaderAddition(name: name, value: text, append: append)
                } else {
                    isValid = false
                }
            } else if let text = scalarText(value, key: "\(key).\(name)") {
                addition = HeaderAddition(name: name, value: text, append: true)
            }
            guard let addition else { continue }
            if let problem = envoyHeaderNameProblem(name) {
                error(.headerNameInvalid, "`\(path)\(key)` names a header Envoy refuses: \(problem)", at: value)
            } else if let problem = envoyModifiableHeaderProblem(name) {
                error(.headerNotModifiable, "`\(path)\(key).\(abbreviated(name))`: \(problem)", at: value)
            } else if let problem = envoyHeaderValueProblem(addition.value) {
                error(
                    .headerValueInvalid, "`\(path)\(key).\(abbreviated(name))` has a value Envoy refuses: \(problem)",
                    at: value)
            } else if let problem = envoySubstitutionFormatProblem(addition.value) {
                error(
                    .headerValueInvalid, "`\(path)\(key).\(abbreviated(name))` has a value Envoy refuses: \(problem)",
                    at: value)
            } else {
                result.append(addition)
            }
        }
        return result
    }

    /// `remove_request_headers`/`remove_response_headers`: the header names Envoy may remove (not pseudo-headers or
    /// `host`, no line breaks); each other name is an error and left out.
    mutating func removableHeaderNames(_ key: String, singleStringAllowed: Bool = true) -> [String]? {
        guard let names = stringList(key, singleStringAllowed: singleStringAllowed), let listNode = node[key] else {
            return nil
        }
        var removable: [String] = []
        for (index, name) in names.enumerated() {
            let at = listNode.sequence.map { index < $0.count ? $0[index] : listNode } ?? listNode
            if let problem = envoyHeaderNameProblem(name) {
                error(.headerNameInvalid, "`\(path)\(key)` names a header Envoy refuses: \(problem)", at: at)
            } else if let problem = envoyModifiableHeaderProblem(name) {
                error(.headerNotModifiable, "`\(path)\(key)`: \(problem)", at: at)
            } else {
                removable.append(name)
            }
        }
        return removable
    }

    /// A duration in milliseconds within Envoy's range (`minimum` up to 9,223,372,035,999 ms).
    mutating func milliseconds(_ key: String, minimum: Int = 0) -> Int? {
        guard let value = integer(key), let node = node[key] else { return nil }
        guard (minimum...EnvoyLimits.maxDurationMilliseconds).contains(value) else {
            error(
                .durationOutOfRange,
                "`\(path)\(key)` must be between \(minimum) and \(EnvoyLimits.maxDurationMilliseconds) (the longest duration Envoy takes), but it is \(value)",
                at: node)
            return nil
        }
        return value
    }
}

extension ResolvedScalar {
    var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }
}

extension String {
    var trimmingSpaces: Substring {
        var s = self[...]
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return s
    }
}
