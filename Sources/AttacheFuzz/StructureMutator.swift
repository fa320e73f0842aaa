import Foundation
import YAML

/// A small deterministic generator (SplitMix64), so a libFuzzer seed reproduces its mutation.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9e37_79b9_7f4a_7c15 }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// Values that stress the decoders: wrong types, edge numbers, template text, run-together fields, long text.
private let hostileScalars: [Node] = [
    Node(scalar: "true"), Node(scalar: "true", style: .doubleQuoted), Node(scalar: "20"),
    Node(scalar: "20", style: .doubleQuoted),
    Node(scalar: "120"), Node(scalar: "-5"), Node(scalar: "-0"), Node(scalar: "1e309"), Node(scalar: ".nan"),
    Node(scalar: "", style: .doubleQuoted),
    Node(scalar: "null"), Node(scalar: "{{ .Values.service.name }}", style: .doubleQuoted),
    Node(scalar: "service-gray  weight: 20", style: .doubleQuoted), Node(scalar: "/svc/"),
    Node(scalar: "*.example.com", style: .doubleQuoted),
    Node(scalar: "(?=x)", style: .doubleQuoted), Node(scalar: "https://Svc.NS:8443/p"), Node(scalar: "websvc:http"),
    Node(scalar: "[::1]:9000", style: .doubleQuoted),
    Node(scalar: String(repeating: "x", count: 5000)),
    Node(.sequence([Node(scalar: "a")]), mark: Mark(line: 1, column: 1)),
    Node(.mapping([Node.Pair(key: Node(scalar: "gray"), value: Node(scalar: "true"))]), mark: Mark(line: 1, column: 1)),
]

/// Mapping fields worth adding with hostile values.
private let fieldNames = [
    "prefix", "service", "weight", "headers", "regex_headers", "query_parameters", "host", "hostname", "method",
    "precedence",
    "rewrite", "resolver", "prefix_regex", "prefix_exact", "case_sensitive", "timeout_ms", "connect_timeout_ms",
    "host_rewrite",
    "add_request_headers", "remove_request_headers", "ambassador_id", "name", "namespace", "kind", "apiVersion",
    // Rollouts, Module and endpoints: the other objects whose fields drive routing.
    "currentStepIndex", "setWeight", "stableService", "canaryService", "mappings", "steps", "abort", "stableRS",
    "currentPodHash", "setHeaderRoute", "regex_max_size", "cluster_request_timeout_ms", "targetPort", "port",
    "addresses",
]

/// Parses `input` as YAML, applies one to three tree mutations, and writes the result back as YAML text. nil when
/// the input is not YAML (libFuzzer then mutates bytes instead).
func mutateStructure(_ input: [UInt8], using generator: inout SeededGenerator) -> [UInt8]? {
    guard let stream = try? parseYAML(input), !stream.documents.isEmpty else { return nil }
    var documents = stream.documents.map(\.root)
    for _ in 0..<Int.random(in: 1...3, using: &generator) {
        let index = Int.random(in: 0..<documents.count, using: &generator)
        switch Int.random(in: 0..<6, using: &generator) {
        case 0:  // replace a random node with a hostile value
            replaceRandomNode(
                &documents[index], with: hostileScalars.randomElement(using: &generator)!, using: &generator)
        case 1:  // drop a key somewhere
            editRandomMapping(&documents[index], using: &generator) { pairs, g in
                if !pairs.isEmpty { pairs.remove(at: Int.random(in: 0..<pairs.count, using: &g)) }
            }
        case 2:  // duplicate a key somewhere
            editRandomMapping(&documents[index], using: &generator) { pairs, g in
                if let pair = pairs.randomElement(using: &g) { pairs.append(pair) }
            }
        case 3:  // add a Mapping field with a hostile value
            editRandomMapping(&documents[index], using: &generator) { pairs, g in
                pairs.append(
                    Node.Pair(
                        key: Node(scalar: fieldNames.randomElement(using: &g)!),
                        value: hostileScalars.randomElement(using: &g)!))
            }
        case 4:  // nest another document inside an annotation
            let inner = documents.randomElement(using: &generator)!
            let annotation = Node(scalar: emitYAML([inner]), style: .literal)
            let metadata = Node(
                .mapping([
                    Node.Pair(
                        key: Node(scalar: "annotations"),
                        value: Node(
                            .mapping([
                                Node.Pair(key: Node(scalar: "getambassador.io/config"), value: annotation)
                            ]), mark: Mark(line: 1, column: 1)))
                ]), mark: Mark(line: 1, column: 1))
            let service: [Node.Pair] = [
                Node.Pair(key: Node(scalar: "apiVersion"), value: Node(scalar: "v1")),
                Node.Pair(key: Node(scalar: "kind"), value: Node(scalar: "Service")),
                Node.Pair(key: Node(scalar: "metadata"), value: metadata),
            ]
            documents.append(Node(.mapping(service), mark: Mark(line: 1, column: 1)))
        default:  // duplicate a document
            documents.append(documents[index])
        }
    }
    return Array(emitYAML(documents).utf8)
}

/// Visits nodes in pre-order and lets `edit` change the `target`-th one.
private func visit(_ node: inout Node, counter: inout Int, target: Int, _ edit: (inout Node) -> Void) {
    if counter == target { edit(&node) }
    counter += 1
    switch node.content {
    case .scalar: break
    case .sequence(var items):
        for i in items.indices { visit(&items[i], counter: &counter, target: target, edit) }
        node.content = .sequence(items)
    case .mapping(var pairs):
        for i in pairs.indices { visit(&pairs[i].value, counter: &counter, target: target, edit) }
        node.content = .mapping(pairs)
    }
}

private func nodeCount(_ node: Node) -> Int {
    switch node.content {
    case .scalar: return 1
    case .sequence(let items): return 1 + items.reduce(0) { $0 + nodeCount($1) }
    case .mapping(let pairs): return 1 + pairs.reduce(0) { $0 + nodeCount($1.value) }
    }
}

private func replaceRandomNode(_ root: inout Node, with value: Node, using generator: inout SeededGenerator) {
    let target = Int.random(in: 0..<max(1, nodeCount(root)), using: &generator)
    var counter = 0
    visit(&root, counter: &counter, target: target) { $0 = value }
}

private func editRandomMapping(
    _ root: inout Node, using generator: inout SeededGenerator,
    _ edit: (inout [Node.Pair], inout SeededGenerator) -> Void
) {
    var mappings: [Int] = []
    var counter = 0
    visit(&root, counter: &counter, target: -1) { _ in }
    // Collect pre-order indices of mapping nodes.
    func collect(_ node: Node, _ index: inout Int) {
        if case .mapping = node.content { mappings.append(index) }
        index += 1
        switch node.content {
        case .scalar: break
        case .sequence(let items): for item in items { collect(item, &index) }
        case .mapping(let pairs): for pair in pairs { collect(pair.value, &index) }
        }
    }
    var index = 0
    collect(root, &index)
    guard let target = mappings.randomElement(using: &generator) else { return }
    counter = 0
    var local = generator
    visit(&root, counter: &counter, target: target) { node in
        if case .mapping(var pairs) = node.content {
            edit(&pairs, &local)
            node.content = .mapping(pairs)
        }
    }
    generator = local
}

/// Writes documents as block YAML: literal blocks for multi-line text, double quotes where a plain scalar would
/// not read back as the same text and style.
func emitYAML(_ documents: [Node]) -> String {
    var out = ""
    for document in documents {
        out += "---\n"
        emit(document, indent: 0, into: &out, inline: false)
    }
    return out
}

private func emit(_ node: Node, indent: Int, into out: inout String, inline: Bool) {
    let pad = String(repeating: " ", count: indent)
    switch node.content {
    case .scalar(let text):
        if text.contains("\n") && !text.contains("\r") {
            out += "|\n"
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(
                text.hasSuffix("\n") ? 1 : 0)
            {
                out += pad + "  " + line + "\n"
            }
        } else if node.style == .plain && !text.isEmpty
            && text.allSatisfy({ $0.isLetter || $0.isNumber || "/._-".contains($0) }) && !text.hasPrefix("-")
        {
            out += text + "\n"
        } else {
            out +=
                "\""
                + text.unicodeScalars.map { s -> String in
                    switch s {
                    case "\"": return "\\\""
                    case "\\": return "\\\\"
                    case "\n": return "\\n"
                    case "\t": return "\\t"
                    default: return s.value < 0x20 || s.value == 0x7f ? String(format: "\\x%02x", s.value) : String(s)
                    }
                }.joined() + "\"\n"
        }
    case .sequence(let items):
        if items.isEmpty {
            out += "[]\n"
            return
        }
        if inline { out += "\n" }
        for item in items {
            out += pad + "- "
            emit(item, indent: indent + 2, into: &out, inline: false)
        }
    case .mapping(let pairs):
        if pairs.isEmpty {
            out += "{}\n"
            return
        }
        if inline { out += "\n" }
        for (i, pair) in pairs.enumerated() {
            if i > 0 || inline { out += pad }
            var key = ""
            emit(pair.key, indent: 0, into: &key, inline: false)
            out += key.trimmingCharacters(in: .newlines) + ": "
            emit(pair.value, indent: indent + 2, into: &out, inline: true)
        }
    }
}
