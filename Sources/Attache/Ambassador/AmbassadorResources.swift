import YAML

/// Options that decide which objects are ours and how names qualify.
public struct TranslationOptions: Sendable, Equatable {
    /// Objects whose `ambassador_id` does not name this id (or `_automatic_`) are someone else's.
    public var ambassadorID = "default"
    /// The namespace Ambassador itself runs in; unqualified service names resolve there.
    public var ambassadorNamespace = "default"
    public var listenAddress = "0.0.0.0"
    public var listenPort = 8080
    public var adminAddress = "127.0.0.1"
    public var adminPort = 9901
    /// How endpoint clusters get their members; see `EndpointDelivery`.
    public var endpointDelivery = EndpointDelivery.inline
    /// `--rollout NAME=step:N|weight:W`, by `name` or `namespace/name`.
    public var rolloutOverrides: [String: RolloutOverride] = [:]

    public init() {}
}

/// How endpoint-routed clusters receive their pod addresses.
public enum EndpointDelivery: Sendable, Equatable {
    /// In the cluster itself (STATIC): a self-contained bootstrap, what `translate` writes. A static bootstrap is
    /// restarted to change anyway, and `envoy --mode validate` checks only what the bootstrap contains.
    case inline
    /// From one file per cluster under `<directory>/endpoints/` (EDS), for the sidecar: pod churn rewrites only
    /// those files. One file per cluster because Envoy's file-based EDS takes exactly one ClusterLoadAssignment per
    /// file ("Unexpected EDS resource length: 2" otherwise).
    case files(directory: String)
}

/// Everything the routing model is built from: Mappings in Emissary's processing order, the Module, and the
/// Kubernetes objects that describe services.
public struct AmbassadorResources: Sendable {
    public var mappings: [Mapping] = []
    public var module = AmbassadorModule()
    /// `v1 Service` ports by `namespace/name`.
    public var services: [String: KubernetesService] = [:]
    /// Ready pod addresses by `namespace/name` of their Service. EndpointSlices win over Endpoints.
    public var endpoints: [String: ServiceEndpoints] = [:]
    /// Declared resolvers by name (besides the built-in ones).
    public var resolvers: [String: ResolverKind] = [:]
    /// Argo Rollouts that route through Ambassador, sorted by namespace and name.
    public var rollouts: [Rollout] = []
}

/// What Attaché does with an object of a given apiVersion and kind.
enum ObjectRole {
    case mapping, module, resolver(ResolverKind), service, endpoints, endpointSlice, rollout
    /// An Ambassador kind Attaché does not implement: skipped with one notice.
    case unsupportedAmbassadorKind
    /// Not Ambassador's (Deployments, RBAC, CRD definitions, ...): skipped quietly.
    case ignored

    init(apiVersion: String, kind: String) {
        switch (apiVersion, kind) {
        case ("v1", "Service"):
            self = .service
            return
        case ("v1", "Endpoints"):
            self = .endpoints
            return
        case ("discovery.k8s.io/v1", "EndpointSlice"):
            self = .endpointSlice
            return
        case ("argoproj.io/v1alpha1", "Rollout"):
            self = .rollout
            return
        default: break
        }
        guard isAmbassadorResource(apiVersion: apiVersion) else {
            self = .ignored
            return
        }
        switch kind {
        case "Mapping", "AmbassadorMapping": self = .mapping
        case "Module": self = .module
        case "KubernetesEndpointResolver": self = .resolver(.kubernetesEndpoint)
        case "KubernetesServiceResolver": self = .resolver(.kubernetesService)
        case "ConsulResolver": self = .resolver(.consul)
        default: self = .unsupportedAmbassadorKind
        }
    }
}

/// apiVersions accepted inside a `getambassador.io/config` annotation. `ambassador/vN` means
/// `getambassador.io/vN`; v0 is read as v2 (Emissary 3 refuses it, the seed blog uses it).
private let annotationVersions: Set<String> = [
    "ambassador/v0", "ambassador/v1", "ambassador/v2", "ambassador/v3alpha1",
    "getambassador.io/v0", "getambassador.io/v1", "getambassador.io/v2", "getambassador.io/v3alpha1",
    "x.getambassador.io/v3alpha1",
]

/// Stage: Kubernetes objects → Ambassador resources.
///
/// Keeps the objects that are ours (`ambassador_id`), resolves duplicates (Emissary: the last annotation wins,
/// the first resource wins), decodes each Mapping on its own so that a bad one is dropped alone, and sorts
/// Mappings into Emissary's processing order.
public func collectAmbassadorResources(
    _ objects: [KubernetesObject], options: TranslationOptions, log: inout DiagnosticLog, cache: DecodeCache? = nil
) -> AmbassadorResources {
    var resources = AmbassadorResources()
    var kept: [String: KubernetesObject] = [:]  // "Kind namespace/name" → object
    var keptOrder: [String] = []

    for object in objects {
        if case .annotation = object.origin, !annotationVersions.contains(object.apiVersion) {
            log.error(
                .annotationUnsupportedVersion,
                "apiVersion \"\(object.apiVersion)\" is not an Ambassador version (use getambassador.io/v2 or v3alpha1); document skipped",
                at: object.location, object: object.reference)
            continue
        }
        let role = ObjectRole(apiVersion: annotationNormalizedVersion(object), kind: object.kind)
        switch role {
        case .ignored:
            continue
        case .service:
            resources.services["\(object.namespace)/\(object.name)"] = decodeService(object)
            continue
        case .endpoints:
            let key = "\(object.namespace)/\(object.name)"
            if resources.endpoints[key]?.source != .endpointSlices {
                resources.endpoints[key] = decodeEndpoints(object)
            }
            continue
        case .endpointSlice:
            guard let service = endpointSliceServiceName(object), let subset = decodeEndpointSlice(object) else { continue }
            let key = "\(object.namespace)/\(service)"
            if resources.endpoints[key]?.source != .endpointSlices {
                // The first slice replaces anything read from Endpoints: slices win.
                resources.endpoints[key] = ServiceEndpoints(namespace: object.namespace, name: service, subsets: [], source: .endpointSlices)
            }
            resources.endpoints[key]?.subsets.append(subset)
            continue
        case .rollout:
            if let rollout = decodeRollout(object, log: &log), rollout.usesAmbassador { resources.rollouts.append(rollout) }
            continue
        case .resolver(let kind):
            if isOurs(object, options: options, log: &log) { resources.resolvers[object.name] = kind }
            continue
        case .unsupportedAmbassadorKind:
            if isOurs(object, options: options, log: &log) {
                log.note(.unsupportedKind, "\(object.kind) is not supported by Attaché yet; skipped", at: object.location, object: object.reference)
            }
            continue
        case .mapping, .module:
            break
        }
        guard isOurs(object, options: options, log: &log) else { continue }

        let kind: String
        if case .mapping = role { kind = "Mapping" } else { kind = object.kind }
        let key = "\(kind) \(object.namespace)/\(object.name)"
        if let first = kept[key] {
            // Emissary: a repeated annotation replaces the earlier one; a repeated resource is refused.
            let laterWins: Bool
            if case .annotation = object.origin { laterWins = true } else { laterWins = false }
            log.error(
                .duplicateObject,
                "\(kind) \(object.namespace)/\(object.name) is defined twice (first at \(first.location)); \(laterWins ? "this one replaces it" : "this one is ignored")",
                at: object.location, object: ObjectReference(kind: kind, namespace: object.namespace, name: object.name))
            if laterWins { kept[key] = object }
            continue
        }
        kept[key] = object
        keptOrder.append(key)
    }

    // The Module first: its settings (regex_max_size) bound how Mappings are checked.
    for key in keptOrder {
        guard let object = kept[key], case .module = ObjectRole(apiVersion: annotationNormalizedVersion(object), kind: object.kind) else { continue }
        guard object.name == "ambassador" else {
            log.note(.unsupportedKind, "only the Module named `ambassador` is read; skipped", at: object.location, object: object.reference)
            continue
        }
        if let module = decodeModule(object, log: &log) { resources.module = module }
    }
    var mappings: [(Mapping, Int)] = []
    var v3NoticeGiven = false
    for key in keptOrder {
        guard let object = kept[key], case .mapping = ObjectRole(apiVersion: annotationNormalizedVersion(object), kind: object.kind) else { continue }
        let mapping: Mapping?
        let diagnostics: [Diagnostic]
        if let cache {
            (mapping, diagnostics) = cache.mapping(for: object, regexMaxSize: resources.module.regexMaxSize)
        } else {
            var mappingLog = DiagnosticLog()
            mapping = decodeMapping(object, regexMaxSize: resources.module.regexMaxSize, log: &mappingLog)
            diagnostics = mappingLog.items
        }
        for diagnostic in diagnostics {
            // The "v3alpha1 without hostname" notice is said once, not once per Mapping.
            if diagnostic.code == .v3MappingWithoutHostname {
                if v3NoticeGiven { continue }
                v3NoticeGiven = true
            }
            log.add(diagnostic)
        }
        if let mapping { mappings.append((mapping, object.inputOrder)) }
    }
    // Emissary's processing order: sorted by key, compared as bytes so that no locale can change it.
    mappings.sort { a, b in
        if a.0.processingKey != b.0.processingKey {
            return a.0.processingKey.utf8.lexicographicallyPrecedes(b.0.processingKey.utf8)
        }
        return a.1 < b.1
    }
    cache?.endRun()
    resources.mappings = mappings.map(\.0)
    resources.rollouts.sort { codePointLess("\($0.reference.namespace)/\($0.reference.name)", "\($1.reference.namespace)/\($1.reference.name)") }
    return resources
}

/// `ambassador/vN` is the annotation spelling of `getambassador.io/vN`.
private func annotationNormalizedVersion(_ object: KubernetesObject) -> String {
    object.apiVersion.hasPrefix("ambassador/") ? "getambassador.io/" + object.apiVersion.dropFirst("ambassador/".count) : object.apiVersion
}

/// `ambassador_id` (or `ambassadorId`): a string or a list. Ours when it names our id or `_automatic_`; absent means
/// `default`; an empty string or list means nobody's.
func isOurs(_ object: KubernetesObject, options: TranslationOptions, log: inout DiagnosticLog) -> Bool {
    guard let node = object.fields["ambassador_id"] ?? object.fields["ambassadorId"], node.resolved != .null else {
        return options.ambassadorID == "default"
    }
    let ids: [String]
    if let items = node.sequence {
        ids = items.compactMap { $0.scalar?.text }
    } else if let text = node.scalar?.text {
        ids = text.isEmpty ? [] : [text]
    } else {
        log.error(.ambassadorIDInvalid, "`ambassador_id` must be a string or a list of strings, but it is \(node.typeDescription); object skipped", at: object.location(of: node), object: object.reference)
        return false
    }
    return ids.contains(options.ambassadorID) || ids.contains("_automatic_")
}
