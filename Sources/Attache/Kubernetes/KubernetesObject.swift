// Kubernetes objects: YAML documents become objects with an apiVersion, a kind, a name and a namespace.
//
// Two sources make objects: documents in the input files (with `kind: List` unwrapped), and the YAML stream in a
// Service's or Ingress's `getambassador.io/config` annotation, whose documents are flat (no `metadata`, no `spec`).

import YAML

/// One Kubernetes object, wherever it came from, with enough context to point diagnostics at its lines.
///
/// Lives only while its document is read: the reader hands it to the caller's per-object transform (the Ambassador
/// stage decodes it there) and lets its node tree go. A class with constant fields, so that handing it on is one
/// reference count rather than one per field.
public final class KubernetesObject: Sendable {
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
    /// The whole object as written.
    public let body: Node
    /// Where the resource's own fields live: `spec` for a resource, the document itself for an annotation document.
    public let fields: Node
    /// Where the object starts.
    public let location: SourceLocation
    /// The input file the object is in (for an annotation: the file of the Service that carries it).
    public let file: String
    public let origin: Origin

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

    public var reference: ObjectReference { ObjectReference(kind: kind, namespace: namespace, name: name) }

    /// `namespace/name`, the key Services and endpoints are found by.
    public var namespacedName: String { namespace + "/" + name }

    /// The position of any node of this object.
    public func location(of node: Node) -> SourceLocation {
        SourceLocation(file: file, line: node.mark.line, column: node.mark.column)
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
