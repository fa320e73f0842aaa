import CYAML
import Foundation

/// One document of a YAML stream.
public struct YAMLDocument: Sendable {
    /// 1-based position of the document in its stream (what a `---` count would say).
    public var index: Int
    public var root: Node
}

/// A problem that does not stop parsing: a key given twice in one mapping.
public struct YAMLWarning: Sendable, Equatable {
    public var message: String
    public var mark: Mark
}

/// A YAML text that could not be read: libyaml's syntax errors, and the limits below.
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var mark: Mark

    public var description: String { "\(mark.line):\(mark.column): \(message)" }
}

/// Bounds that keep hostile input from eating the stack or memory.
public struct YAMLLimits: Sendable {
    /// Deepest nesting of sequences and mappings. Kubernetes objects use a few dozen levels at most.
    public var maxDepth: Int = 512
    /// Nodes that aliases may add beyond the nodes actually written: a fixed allowance plus a multiple of the
    /// written nodes. A "billion laughs" document needs exponentially more and fails at once.
    public var aliasAllowance: Int = 10_000
    public var aliasRatio: Int = 10

    public init() {}
}

/// The result of parsing one stream: its documents and any warnings.
public struct YAMLStream: Sendable {
    public var documents: [YAMLDocument]
    public var warnings: [YAMLWarning]
}

/// Parses a YAML stream (several `---` documents, block or flow style, JSON) into node trees.
///
/// `placement` maps libyaml's positions into the caller's coordinates; the annotation reader uses it so that
/// nodes parsed from an embedded YAML text point into the enclosing file.
public func parseYAML(
    _ bytes: [UInt8],
    limits: YAMLLimits = YAMLLimits(),
    placement: MarkPlacement = .identity
) throws(YAMLError) -> YAMLStream {
    var documents: [YAMLDocument] = []
    let warnings = try parseYAML(bytes, limits: limits, placement: placement) { documents.append($0) }
    return YAMLStream(documents: documents, warnings: warnings)
}

/// Parses a YAML stream and hands over each document as soon as it is complete, so that a caller that is done
/// with a document can let go of its tree before the next one is built. Returns the warnings. When the stream
/// turns out to be invalid, the documents before the error have already been handed over.
public func parseYAML(
    _ bytes: [UInt8],
    limits: YAMLLimits = YAMLLimits(),
    placement: MarkPlacement = .identity,
    eachDocument: (YAMLDocument) -> Void
) throws(YAMLError) -> [YAMLWarning] {
    try parseYAML(bytes[...], limits: limits, placement: placement, eachDocument: eachDocument)
}

/// `parseYAML` of a part of a larger buffer (one run of documents of a file), read in place: a copy of the part
/// would cost a pass over its bytes and as much memory again.
public func parseYAML(
    _ bytes: ArraySlice<UInt8>,
    limits: YAMLLimits = YAMLLimits(),
    placement: MarkPlacement = .identity,
    eachDocument: (YAMLDocument) -> Void
) throws(YAMLError) -> [YAMLWarning] {
    let markTransform = placement.apply
    var builder = TreeBuilder(limits: limits, placement: placement)
    var parser = yaml_parser_t()
    guard yaml_parser_initialize(&parser) == 1 else {
        throw YAMLError(message: "could not initialise the YAML parser", mark: markTransform(Mark(line: 1, column: 1)))
    }
    defer { yaml_parser_delete(&parser) }

    // libyaml keeps a pointer to the input; it must stay alive for the whole parse.
    let result: Result<Void, YAMLError> = bytes.withUnsafeBufferPointer { buffer in
        let empty: [UInt8] = [0]
        return empty.withUnsafeBufferPointer { fallback in
            let base = buffer.baseAddress ?? fallback.baseAddress!
            yaml_parser_set_input_string(&parser, base, buffer.count)
            var event = yaml_event_t()
            while true {
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    return .failure(libyamlError(parser, bytes: bytes, markTransform))
                }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return .success(()) }
                do throws(YAMLError) {
                    try builder.consume(event)
                } catch {
                    return .failure(error)
                }
                if let document = builder.finished {
                    builder.finished = nil
                    eachDocument(document)
                }
            }
        }
    }
    try result.get()
    return builder.warnings
}

/// Where the marks of an embedded text land in the enclosing file.
public enum MarkPlacement: Sendable {
    /// The text is a file of its own.
    case identity
    /// The text is a literal block scalar: inner line L is `lines + L` outside, and every column moves right by
    /// the block's indentation.
    case shifted(lines: Int, columns: Int)
    /// Inner positions cannot be mapped (a quoted or folded scalar): everything points at the scalar.
    case fixed(Mark)

    public func apply(_ mark: Mark) -> Mark {
        switch self {
        case .identity: return mark
        case .shifted(let lines, let columns): return Mark(line: mark.line + lines, column: mark.column + columns)
        case .fixed(let at): return at
        }
    }
}

private func libyamlError(_ parser: yaml_parser_t, bytes: ArraySlice<UInt8>, _ transform: (Mark) -> Mark) -> YAMLError {
    var parts: [String] = []
    if let context = parser.context { parts.append(String(cString: context)) }
    if let problem = parser.problem { parts.append(String(cString: problem)) }
    var message = parts.isEmpty ? "invalid YAML" : parts.joined(separator: ", ")
    var mark = Mark(line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1)
    if parser.error == YAML_READER_ERROR {
        // Reader errors (bad UTF-8, control characters) report a byte offset, not a mark.
        let offset = min(Int(parser.problem_offset), bytes.count)
        var line = 1, lineStart = 0
        for index in 0..<offset where bytes[bytes.startIndex + index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        mark = Mark(line: line, column: offset - lineStart + 1)
        if parser.problem_value >= 0 { message += String(format: " (byte 0x%02x)", Int(parser.problem_value)) }
    }
    return YAMLError(message: message, mark: transform(mark))
}

/// Turns libyaml events into nodes without recursion: open collections live on an explicit stack, and children
/// are appended to them in place.
private struct TreeBuilder {
    struct Frame {
        var isMapping: Bool
        var items: [Node] = []
        var pairs: [Node.Pair] = []
        var pendingKey: Node?
        var mark: Mark
        var tag: Node.Tag
        var anchor: String?
        /// Nodes in this subtree, aliases expanded; anchors remember it so that each use is charged in full.
        var size: Int = 1
    }

    let limits: YAMLLimits
    let placement: MarkPlacement
    /// The document just completed, until the parse loop hands it over.
    var finished: YAMLDocument?
    var documentCount = 0
    var warnings: [YAMLWarning] = []
    var stack: [Frame] = []
    var anchors: [String: (node: Node, size: Int)] = [:]
    var writtenNodes = 0
    var aliasNodes = 0

    init(limits: YAMLLimits, placement: MarkPlacement) {
        self.limits = limits
        self.placement = placement
    }

    func mark(_ m: yaml_mark_t) -> Mark {
        placement.apply(Mark(line: Int(m.line) + 1, column: Int(m.column) + 1))
    }

    mutating func consume(_ event: yaml_event_t) throws(YAMLError) {
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            if !anchors.isEmpty { anchors = [:] }
            writtenNodes = 0
            aliasNodes = 0
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: s.value, count: Int(s.length)), as: UTF8.self)
            let style: ScalarStyle
            switch s.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            let node = Node(.scalar(text), mark: mark(event.start_mark), style: style, tag: tag(s.tag))
            writtenNodes += 1
            try complete(node, size: 1, anchor: anchorString(s.anchor))
        case YAML_ALIAS_EVENT:
            let name = anchorString(event.data.alias.anchor) ?? ""
            guard let target = anchors[name] else {
                throw YAMLError(message: "unknown alias *\(name)", mark: mark(event.start_mark))
            }
            aliasNodes += target.size
            if aliasNodes > limits.aliasAllowance + limits.aliasRatio * writtenNodes {
                throw YAMLError(
                    message:
                        "aliases expand to more than \(limits.aliasAllowance + limits.aliasRatio * writtenNodes) nodes (an alias bomb?); refusing to expand",
                    mark: mark(event.start_mark))
            }
            try complete(target.node, size: target.size, anchor: nil)
        case YAML_SEQUENCE_START_EVENT:
            let s = event.data.sequence_start
            try push(isMapping: false, mark: mark(event.start_mark), tag: tag(s.tag), anchor: anchorString(s.anchor))
        case YAML_MAPPING_START_EVENT:
            let m = event.data.mapping_start
            try push(isMapping: true, mark: mark(event.start_mark), tag: tag(m.tag), anchor: anchorString(m.anchor))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard var frame = stack.popLast() else { return }
            writtenNodes += 1
            // The children are moved out of the frame, not copied: every copy of a node is a reference count
            // taken and dropped again, and a large input has millions of them.
            let node: Node
            if frame.isMapping {
                var pairs: [Node.Pair] = []
                swap(&pairs, &frame.pairs)
                node = Node(.mapping(resolveMergeKeys(pairs)), mark: frame.mark, tag: frame.tag)
            } else {
                var items: [Node] = []
                swap(&items, &frame.items)
                node = Node(.sequence(items), mark: frame.mark, tag: frame.tag)
            }
            try complete(node, size: frame.size, anchor: frame.anchor)
        default:
            break
        }
    }

    mutating func push(isMapping: Bool, mark: Mark, tag: Node.Tag, anchor: String?) throws(YAMLError) {
        guard stack.count < limits.maxDepth else {
            throw YAMLError(message: "nesting is deeper than \(limits.maxDepth) levels", mark: mark)
        }
        stack.append(Frame(isMapping: isMapping, mark: mark, tag: tag, anchor: anchor))
        // Room for a typical Kubernetes mapping or list up front: growing an empty array one append at a time
        // reallocates it three or four times (callgrind: most of the cost of adding a child). Reserved in place,
        // on the stack, so that the frame is never copied.
        if isMapping {
            stack[stack.count - 1].pairs.reserveCapacity(8)
        } else {
            stack[stack.count - 1].items.reserveCapacity(4)
        }
    }

    /// Hands a finished node to its parent, or makes it a document's root.
    mutating func complete(_ node: consuming Node, size: Int, anchor: String?) throws(YAMLError) {
        if let anchor { anchors[anchor] = (copy node, size) }
        let top = stack.count - 1
        guard top >= 0 else {
            documentCount += 1
            finished = YAMLDocument(index: documentCount, root: node)
            return
        }
        stack[top].size += size
        if !stack[top].isMapping {
            stack[top].items.append(node)
        } else if let key = stack[top].pendingKey.take() {
            stack[top].pairs.append(Node.Pair(key: key, value: node))
        } else {
            stack[top].pendingKey = node
        }
    }

    /// Applies `<<` merge keys (explicit keys win over merged ones, earlier merge sources over later ones)
    /// and reports keys written twice. The last of two equal keys wins, as PyYAML and Emissary read it.
    mutating func resolveMergeKeys(_ pairs: consuming [Node.Pair]) -> [Node.Pair] {
        reportDuplicateKeys(pairs)
        // Nearly every mapping has no merge key: handed back as it came, not copied.
        guard pairs.contains(where: { isMergeKey($0.key) }) else { return pairs }
        return merged(pairs)
    }

    /// The pairs with each `<<` replaced by the keys it brings that are not already there.
    func merged(_ pairs: [Node.Pair]) -> [Node.Pair] {
        var result = pairs.filter { !isMergeKey($0.key) }
        var seen = Set(result.compactMap { $0.key.scalarText.map(MappingKey.init) })
        for pair in pairs where isMergeKey(pair.key) {
            let sources: [Node] = pair.value.sequence ?? [pair.value]
            for source in sources {
                for merged in source.mapping ?? [] {
                    guard let text = merged.key.scalarText, seen.insert(MappingKey(text: text)).inserted else {
                        continue
                    }
                    result.append(merged)
                }
            }
        }
        return result
    }

    /// Warns about scalar keys that appear twice (`isSameKey`, as `Node[key]` finds them). Small mappings (nearly
    /// all of them) are checked pairwise; hashing every key of every mapping cost more than the parse itself.
    mutating func reportDuplicateKeys(_ pairs: [Node.Pair]) {
        guard pairs.count > 1 else { return }
        if pairs.count <= 16 {
            for i in 1..<pairs.count {
                guard case .scalar(let text) = pairs[i].key.content, !isMergeKey(pairs[i].key) else { continue }
                for j in 0..<i {
                    guard case .scalar(let other) = pairs[j].key.content, isSameKey(other, text) else { continue }
                    warnings.append(
                        YAMLWarning(
                            message: "key \"\(text)\" is given twice in one mapping; the last one wins",
                            mark: pairs[i].key.mark))
                    break
                }
            }
            return
        }
        var seen = Set<MappingKey>()
        for pair in pairs where !isMergeKey(pair.key) {
            if let text = pair.key.scalarText, !seen.insert(MappingKey(text: text)).inserted {
                warnings.append(
                    YAMLWarning(
                        message: "key \"\(text)\" is given twice in one mapping; the last one wins", mark: pair.key.mark
                    ))
            }
        }
    }

    func isMergeKey(_ key: Node) -> Bool {
        guard case .scalar(let text) = key.content, isSameKey(text, "<<") else { return false }
        return key.style == .plain || key.tag == .merge
    }

    func tag(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> Node.Tag {
        guard let pointer else { return .none }
        let text = String(cString: pointer)
        return text == "!" ? .none : Node.Tag(text)
    }

    func anchorString(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }
}
