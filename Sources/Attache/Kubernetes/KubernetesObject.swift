// Kubernetes objects: YAML documents become objects with an apiVersion, a kind, a name and a namespace.
//
// Two sources make objects: documents in the input files (with `kind: List` unwrapped), and the YAML stream in a
// Service's or Ingress's `getambassador.io/config` annotation, whose documents are flat (no `metadata`, no `spec`).

import YAML

/// One Kubernetes object, wherever it came from, with enough context to point diagnostics at its lines.
///
/// A class: objects are passed from stage to stage and kept in tables, and copying a dozen strings and node trees
/// each time showed up in profiles. Not changed after `parseSources` returns it.
public final class KubernetesObject: @unchecked Sendable {
    /// Where an object was written.
    public enum Origin: Sendable, Equatable {
        /// A document (or an item of a `kind: List`) in an input file.
        case document
        /// The `index`-th (1-based) document of the `getambassador.io/config` annotation of `owner`.
        case annotation(owner: ObjectReference, index: Int)
    }

    public let apiVersion: String
    public let kind: String
    public let name: String
    public let namespace: String
    /// The whole object as written; an empty mapping once `releaseTree()` has run.
    public private(set) var body: Node
    /// Where the resource's own fields live: `spec` for a resource, the document itself for an annotation document.
    public private(set) var fields: Node
    /// Where the object starts.
    public let location: SourceLocation
    /// What the Ambassador stage decoded from this object as soon as it was read (`decodeEarly`), so that the tree
    /// could be let go; nil when that did not happen.
    var early: EarlyDecoding?
    /// False once `releaseTree()` has run: then only `early` says what the object held.
    public private(set) var hasTree = true
    /// The input file the object is in (for an annotation: the file of the Service that carries it).
    public let file: String
    public let origin: Origin
    /// 1-based position of the object among all objects read, in input order. Decides "which came second".
    /// Set once by `parseSources`.
    public internal(set) var inputOrder: Int = 0

    public init(
        apiVersion: String, kind: String, name: String, namespace: String, body: Node, fields: Node, file: String,
        origin: Origin
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.body = body
        self.fields = fields
        self.file = file
        self.origin = origin
        location = SourceLocation(file: file, line: body.mark.line, column: body.mark.column)
    }

    /// Lets go of the node tree (most of the memory a parsed file takes) once nothing will read it again. Called
    /// only by the thread that read the object, before the object is shared.
    func releaseTree() {
        let empty = Node(.mapping([]), mark: body.mark)
        body = empty
        fields = empty
        hasTree = false
    }

    public var reference: ObjectReference { ObjectReference(kind: kind, namespace: namespace, name: name) }

    /// `namespace/name`, the key Services and endpoints are found by.
    public var namespacedName: String { namespace + "/" + name }

    /// The position of any node of this object.
    public func location(of node: Node) -> SourceLocation {
        SourceLocation(file: file, line: node.mark.line, column: node.mark.column)
    }

    /// Emissary processes objects sorted by `name.namespace.N`: N is 1 for a resource, and the document's
    /// index for an annotation, keyed by the annotated object's name and namespace. Tie-breaks in route order
    /// follow this order.
    public var processingKey: String {
        switch origin {
        case .document: return "\(name).\(namespace).1"
        case .annotation(let owner, let index): return "\(owner.name).\(owner.namespace).\(index)"
        }
    }

    /// The object's labels (`metadata.labels`) as strings.
    public var labels: [String: String] {
        var result: [String: String] = [:]
        for pair in body["metadata"]?["labels"]?.mapping ?? [] {
            if let key = pair.key.scalar?.text, let value = pair.value.scalar?.text { result[key] = value }
        }
        return result
    }
}
