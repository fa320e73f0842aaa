import YAML

/// One Kubernetes object as the Ambassador stage reads it: decoded once, by the thread that parsed its document,
/// right after the document was read (`decodeAmbassadorObject`, the transform the pipeline hands the Kubernetes
/// reader), so that its node tree can be let go at once. Immutable: the sidecar's document cache keeps these between
/// runs for documents that did not change. Everything that depends on other objects (duplicates, the Module's
/// `regex_max_size`, resolvers, processing order) is done later, in `collectAmbassadorResources`.
///
/// A class with constant fields: tens of thousands of these are passed from the parse workers through the document
/// cache to collect, and copying a struct of a dozen references costs a reference count for each of them.
public final class AmbassadorObject: Sendable {
    /// What the object is to Ambassador, decoded.
    enum Content: Sendable {
        case mapping(DecodedMapping)
        /// The Module's settings; nil when its `config` could not be read. Decoding reported in `diagnostics`.
        case module(AmbassadorModule?, diagnostics: [Diagnostic])
        case resolver(ResolverKind)
        case service(KubernetesService)
        case endpoints(ServiceEndpoints)
        case endpointSlice(service: String, subset: ServiceEndpoints.Subset)
        /// A Listener, Host or TLSContext; nil when it must be rejected (why in `diagnostics`).
        case listener(AmbassadorListener?, diagnostics: [Diagnostic])
        case host(AmbassadorHost?, diagnostics: [Diagnostic])
        case tlsContext(AmbassadorTLSContext?, diagnostics: [Diagnostic])
        case authService(AuthService?, diagnostics: [Diagnostic])
        /// A Secret with a certificate (`tls.crt`); other Secrets are `.ignored`.
        case secret(TLSSecret)
        /// An Argo Rollout; nil when it could not be read (its errors in `diagnostics`).
        case rollout(Rollout?, diagnostics: [Diagnostic])
        /// An Ambassador kind Attaché does not implement: skipped with one notice.
        case unsupportedAmbassadorKind
        /// An annotation document whose apiVersion is not Ambassador's: skipped with an error.
        case foreignAnnotation
        /// An object that means to be Ambassador's but names a version or kind that does not exist, or a near miss
        /// of its API group: skipped, with this diagnostic (`ambassadorAPIProblem`).
        case misnamed(severity: Severity, code: DiagnosticCode, message: String)
        /// An Ambassador object whose `ambassador_id` names another Ambassador.
        case notOurs
        /// Not Ambassador's (Deployments, RBAC, CRD definitions, ...) or unusable (an EndpointSlice without a
        /// Service): skipped quietly.
        case ignored
    }

    public let reference: ObjectReference
    public let apiVersion: String
    public let location: SourceLocation
    public let origin: KubernetesObject.Origin
    /// Emissary's processing order key; see `KubernetesObject.processingKey`. Computed when asked (for duplicates):
    /// most objects never need it.
    public var processingKey: String {
        emissaryProcessingKey(name: reference.name, namespace: reference.namespace, origin: origin)
    }
    let content: Content
    /// What checking `ambassador_id` reported: said whether or not the object counts.
    let ownershipDiagnostics: [Diagnostic]

    init(
        reference: ObjectReference, apiVersion: String, location: SourceLocation, origin: KubernetesObject.Origin,
        content: Content, ownershipDiagnostics: [Diagnostic]
    ) {
        self.reference = reference
        self.apiVersion = apiVersion
        self.location = location
        self.origin = origin
        self.content = content
        self.ownershipDiagnostics = ownershipDiagnostics
    }
}

/// The per-object transform the pipeline hands the Kubernetes reader: an object → what it is to this Ambassador
/// (`ambassadorID`), decoded. Needs nothing but the object: it runs on the parse workers.
func decodeAmbassadorObject(_ object: KubernetesObject, ambassadorID: String) -> AmbassadorObject {
    var ownership = DiagnosticLog()
    let content: AmbassadorObject.Content
    if case .annotation = object.origin, !annotationVersions.contains(object.apiVersion) {
        content = .foreignAnnotation
    } else if let problem = ambassadorAPIProblem(object) {
        content = .misnamed(severity: problem.severity, code: problem.code, message: problem.message)
    } else {
        switch ObjectRole(apiVersion: annotationNormalizedVersion(object), kind: object.kind) {
        case .ignored: content = .ignored
        case .service: content = .service(decodeService(object))
        case .endpoints: content = .endpoints(decodeEndpoints(object))
        case .endpointSlice:
            if let service = endpointSliceServiceName(object), let subset = decodeEndpointSlice(object) {
                content = .endpointSlice(service: service, subset: subset)
            } else {
                content = .ignored
            }
        case .secret:
            content = decodeTLSSecret(object).map(AmbassadorObject.Content.secret) ?? .ignored
        case .rollout:
            var log = DiagnosticLog()
            let rollout = decodeRollout(object, log: &log)
            content = .rollout(rollout, diagnostics: log.items)
        case .mapping, .module, .resolver, .listener, .host, .tlsContext, .authService, .unsupportedAmbassadorKind:
            content = decodeIfOurs(object, ambassadorID: ambassadorID, log: &ownership)
        }
    }
    return AmbassadorObject(
        reference: object.reference, apiVersion: object.apiVersion, location: object.location, origin: object.origin,
        content: content, ownershipDiagnostics: ownership.items)
}

/// An Ambassador object decoded when its `ambassador_id` makes it ours, `.notOurs` otherwise.
private func decodeIfOurs(_ object: KubernetesObject, ambassadorID: String, log: inout DiagnosticLog)
    -> AmbassadorObject.Content
{
    guard isOurs(object, ambassadorID: ambassadorID, log: &log) else { return .notOurs }
    switch ObjectRole(apiVersion: annotationNormalizedVersion(object), kind: object.kind) {
    case .mapping: return .mapping(decodeMapping(object))
    case .module:
        var moduleLog = DiagnosticLog()
        let module = decodeModule(object, log: &moduleLog)
        return .module(module, diagnostics: moduleLog.items)
    case .resolver(let kind): return .resolver(kind)
    case .listener:
        let (listener, diagnostics) = decodeListener(object)
        return .listener(listener, diagnostics: diagnostics)
    case .host:
        let (host, diagnostics) = decodeHostResource(object)
        return .host(host, diagnostics: diagnostics)
    case .tlsContext:
        let (context, diagnostics) = decodeTLSContext(object)
        return .tlsContext(context, diagnostics: diagnostics)
    case .authService:
        let (service, diagnostics) = decodeAuthService(object)
        return .authService(service, diagnostics: diagnostics)
    default: return .unsupportedAmbassadorKind
    }
}

extension KubernetesObject {
    /// Emissary processes objects sorted by `name.namespace.N`: N is 1 for a resource, and the document's
    /// index for an annotation, keyed by the annotated object's name and namespace. Tie-breaks in route order
    /// follow this order.
    var processingKey: String { emissaryProcessingKey(name: name, namespace: namespace, origin: origin) }
}

private func emissaryProcessingKey(name: String, namespace: String, origin: KubernetesObject.Origin) -> String {
    switch origin {
    case .document: return "\(name).\(namespace).1"
    case .annotation(let owner, let index): return "\(owner.name).\(owner.namespace).\(index)"
    }
}
