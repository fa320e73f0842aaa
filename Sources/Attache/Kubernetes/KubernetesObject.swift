// Kubernetes objects: YAML documents become objects with an apiVersion, a kind, a name and a namespace.
//
// Two sources make objects: documents in the input files (with `kind: List` unwrapped), and the YAML stream in a
// Service's or Ingress's `getambassador.io/config` annotation, whose documents are flat (no `metadata`, no `spec`).

import YAML

/// One Kubernetes object, wherever it came from, with enough context to point diagnostics at its lines.
public struct KubernetesObject: Sendable {
    /// Where an object was written.
    public enum Origin: Sendable, Equatable {
        /// A document (or an item of a `kind: List`) in an input file.
        case document
        /// The `index`-th (1-based) document of the `getambassador.io/config` annotation of `owner`.
        case annotation(owner: ObjectReference, index: Int)
    }

    public var apiVersion: String
    public var kind: String
    public var name: String
    public var namespace: String
    /// The whole object as written.
    public var body: Node
    /// Where the resource's own fields live: `spec` for a resource, the document itself for an annotation document.
    public var fields: Node
    /// The input file the object is in (for an annotation: the file of the Service that carries it).
    public var file: String
    public var origin: Origin
    /// 1-based position of the object among all objects read, in input order. Decides "which came second".
    public var inputOrder: Int = 0

    public var reference: ObjectReference { ObjectReference(kind: kind, namespace: namespace, name: name) }

    public var location: SourceLocation { location(of: body) }

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
