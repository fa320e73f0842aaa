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
enum ObjectRole: Sendable {
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
let annotationVersions: Set<String> = [
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
    _ objects: [KubernetesObject], options: TranslationOptions, log: inout DiagnosticLog
) -> AmbassadorResources {
    let roles = objects.map { $0.early?.role ?? ObjectRole(apiVersion: annotationNormalizedVersion($0), kind: $0.kind) }
    // Services and endpoints on one side, everything routing is made of on the other: neither reads the other's
    // objects, so the two are built side by side.
    let (tables, routing) = inParallel(
        { collectEndpointTables(objects, roles: roles) },
        { () -> (AmbassadorResources, DiagnosticLog) in
            var routingLog = DiagnosticLog()
            let resources = collectRoutingResources(objects, roles: roles, options: options, log: &routingLog)
            return (resources, routingLog)
        })
    var resources = routing.0
    resources.services = tables.services
    resources.endpoints = tables.endpoints
    log.add(contentsOf: routing.1)
    return resources
}

/// An annotation document whose apiVersion is not Ambassador's is skipped whatever its kind (and reported once, by
/// `collectRoutingResources`).
func isSkippedAnnotation(_ object: KubernetesObject) -> Bool {
    if case .annotation = object.origin { return !annotationVersions.contains(object.apiVersion) }
    return false
}

/// Whether Emissary processes `object` after `other`: by processing key (compared as bytes), then annotation
/// documents before resources (Emissary's Go half hands Services and their annotations over first), then input order.
func processedLater(_ object: KubernetesObject, than other: KubernetesObject) -> Bool {
    let order = codePointCompare(object.processingKey, other.processingKey)
    if order != 0 { return order > 0 }
    return processingTieBreak(object) > processingTieBreak(other)
}

/// The order of objects with equal processing keys: annotation documents first, then resources, each in input order.
func processingTieBreak(_ object: KubernetesObject) -> Int {
    if case .annotation = object.origin { return object.inputOrder }
    return object.inputOrder + (1 << 40)
}

/// Services and endpoints by `namespace/name`, applied in input order: the last Service or Endpoints of a name
/// wins, and EndpointSlices, once one is seen for a Service, replace what Endpoints said.
private func collectEndpointTables(
    _ objects: [KubernetesObject], roles: [ObjectRole]
) -> (services: [String: KubernetesService], endpoints: [String: ServiceEndpoints]) {
    var services: [String: KubernetesService] = [:]
    var endpoints: [String: ServiceEndpoints] = [:]
    // Sized up front: growing a dictionary of 14,000 entries rehashes it a dozen times.
    let serviceCount = roles.count { if case .service = $0 { true } else { false } }
    services.reserveCapacity(serviceCount)
    endpoints.reserveCapacity(serviceCount)
    let late = decodeEndpointObjectsNotDecodedEarly(objects, roles: roles)
    for (position, object) in objects.enumerated() {
        switch roles[position] {
        case .service:
            guard !isSkippedAnnotation(object), case .service(let service)? = object.early?.endpointObject ?? late[position] else { continue }
            services[object.namespacedName] = service
        case .endpoints:
            guard !isSkippedAnnotation(object) else { continue }
            let key = object.namespacedName
            if endpoints[key]?.source != .endpointSlices, case .endpoints(let decoded)? = object.early?.endpointObject ?? late[position] {
                endpoints[key] = decoded
            }
        case .endpointSlice:
            guard !isSkippedAnnotation(object), case .slice(let service, let subset)? = object.early?.endpointObject ?? late[position] else { continue }
            let key = "\(object.namespace)/\(service)"
            if endpoints[key]?.source != .endpointSlices {
                // The first slice replaces anything read from Endpoints: slices win.
                endpoints[key] = ServiceEndpoints(namespace: object.namespace, name: service, subsets: [], source: .endpointSlices)
            }
            endpoints[key]?.subsets.append(subset)
        default:
            continue
        }
    }
    return (services, endpoints)
}

/// Mappings, the Module, resolvers and Rollouts: the objects that are ours, duplicates resolved, each Mapping
/// decoded on its own, Mappings in Emissary's processing order.
private func collectRoutingResources(
    _ objects: [KubernetesObject], roles: [ObjectRole], options: TranslationOptions, log: inout DiagnosticLog
) -> AmbassadorResources {
    var resources = AmbassadorResources()
    // Mappings and Modules that are ours, by kind (Mapping for every Mapping spelling), namespace and name: the
    // position in `keptObjects` of the one that counts, and the order in which their names first appeared.
    var kept: [ObjectReference: Int] = [:]
    var keptObjects: [(object: KubernetesObject, isMapping: Bool)] = []
    kept.reserveCapacity(roles.count { if case .mapping = $0 { true } else { false } })
    for (position, object) in objects.enumerated() {
        if isSkippedAnnotation(object) {
            log.error(
                .annotationUnsupportedVersion,
                "apiVersion \"\(object.apiVersion)\" is not an Ambassador version (use getambassador.io/v2 or v3alpha1); document skipped",
                at: object.location, object: object.reference)
            continue
        }
        let role = roles[position]
        switch role {
        case .ignored, .service, .endpoints, .endpointSlice:
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
        guard isOursUsingEarly(object, options: options, log: &log) else { continue }

        let kind: String
        if case .mapping = role { kind = "Mapping" } else { kind = object.kind }
        let key = ObjectReference(kind: kind, namespace: object.namespace, name: object.name)
        if let slot = kept[key] {
            // Emissary's fetcher processes a Kubernetes resource once per kind, namespace and name (the first one);
            // then it stores every object under its kind, namespace and name, so of a resource and annotation
            // documents the one it processes last wins: objects are sorted by key (`name.namespace.N`), annotation
            // documents before resources when keys are equal (its Go half hands them over first), then by input order.
            let earlier = keptObjects[slot].object
            let bothResources = earlier.origin == .document && object.origin == .document
            let objectWins = !bothResources && processedLater(object, than: earlier)
            let (winner, loser) = objectWins ? (object, earlier) : (earlier, object)
            log.error(
                .duplicateObject,
                "\(kind) \(object.namespace)/\(object.name) is defined twice; the definition at \(winner.location) wins (\(bothResources ? "Emissary reads one resource of a name, the first" : "Emissary keeps the one it processes last")) and this one is ignored",
                at: loser.location, object: key)
            keptObjects[slot].object = winner
            continue
        }
        kept[key] = keptObjects.count
        keptObjects.append((object, kind == "Mapping"))
    }

    // The Module first: its settings (regex_max_size) bound how Mappings are checked.
    for (object, isMapping) in keptObjects where !isMapping {
        guard object.name == "ambassador" else {
            log.note(.unsupportedKind, "only the Module named `ambassador` is read; skipped", at: object.location, object: object.reference)
            continue
        }
        if let module = decodeModule(object, log: &log) { resources.module = module }
    }
    let mappingObjects = keptObjects.filter(\.isMapping).map(\.object)
    var mappings: [(Mapping, Int)] = []
    var v3NoticeGiven = false
    for (object, (mapping, diagnostics)) in zip(mappingObjects, decodeMappings(mappingObjects, regexMaxSize: resources.module.regexMaxSize)) {
        for diagnostic in diagnostics {
            // The "v3alpha1 without hostname" notice is said once, not once per Mapping.
            if diagnostic.code == .v3MappingWithoutHostname {
                if v3NoticeGiven { continue }
                v3NoticeGiven = true
            }
            log.add(diagnostic)
        }
        if let mapping { mappings.append((mapping, processingTieBreak(object))) }
    }
    // Emissary's processing order: sorted by key, compared as bytes so that no locale can change it; equal keys
    // with annotation documents first, then in input order.
    let order = codePointOrder(mappings.map(\.0.processingKey), ranks: mappings.map(\.1))
    resources.mappings = order.map { mappings[$0].0 }
    resources.rollouts.sort { codePointLess("\($0.reference.namespace)/\($0.reference.name)", "\($1.reference.namespace)/\($1.reference.name)") }
    return resources
}

/// What a Service, Endpoints or EndpointSlice object decodes to. Decoding one needs nothing but the object.
enum DecodedEndpointObject: Sendable {
    case service(KubernetesService)
    case endpoints(ServiceEndpoints)
    /// A usable slice: the Service it belongs to and its ready endpoints.
    case slice(service: String, subset: ServiceEndpoints.Subset)
    /// A slice without a Service label or without usable content: skipped.
    case unusable
}

/// Decodes the Service, Endpoints and EndpointSlice objects that early decoding did not, by position, in batches
/// on all processors. (An array of every object's result, early ones copied in, cost two reference counts per
/// object for nothing: the collect loop reads early results from the objects.)
func decodeEndpointObjectsNotDecodedEarly(_ objects: [KubernetesObject], roles: [ObjectRole]) -> [Int: DecodedEndpointObject] {
    var missing: [Int] = []
    for (index, role) in roles.enumerated() {
        switch role {
        case .service, .endpoints, .endpointSlice:
            if objects[index].early?.endpointObject == nil { missing.append(index) }
        default:
            continue
        }
    }
    guard !missing.isEmpty else { return [:] }
    let decoded = parallelMap(batches(of: missing, minimumSize: 512)) { batch in
        batch.map { decodeEndpointObject(objects[$0], role: roles[$0]) }
    }
    return Dictionary(uniqueKeysWithValues: zip(missing, decoded.joined()))
}

/// Decodes one Service, Endpoints or EndpointSlice object (`role` says which).
func decodeEndpointObject(_ object: KubernetesObject, role: ObjectRole) -> DecodedEndpointObject {
    switch role {
    case .service: return .service(decodeService(object))
    case .endpoints: return .endpoints(decodeEndpoints(object))
    default:
        guard let service = endpointSliceServiceName(object), let subset = decodeEndpointSlice(object) else { return .unusable }
        return .slice(service: service, subset: subset)
    }
}

/// Decodes Mappings in order: those decoded early (with this `regex_max_size`, or without a regex) are taken as
/// they are; the rest are decoded in batches on all processors, each on its own, with only its diagnostics coming
/// back.
func decodeMappings(_ objects: [KubernetesObject], regexMaxSize: Int) -> [(Mapping?, [Diagnostic])] {
    var results: [(Mapping?, [Diagnostic])?] = objects.map { earlyMapping($0, regexMaxSize: regexMaxSize) }
    let missing = results.indices.filter { results[$0] == nil }
    let batches = batches(of: missing, minimumSize: 256)
    let decoded = parallelMap(batches) { batch in
        batch.map { index -> (Mapping?, [Diagnostic]) in
            var log = DiagnosticLog()
            let mapping = decodeMapping(objects[index], regexMaxSize: regexMaxSize, log: &log)
            return (mapping, log.items)
        }
    }
    for (batch, batchResults) in zip(batches, decoded) {
        for (index, result) in zip(batch, batchResults) { results[index] = result }
    }
    return results.map { $0! }
}

/// `ambassador/vN` is the annotation spelling of `getambassador.io/vN`.
func annotationNormalizedVersion(_ object: KubernetesObject) -> String {
    object.apiVersion.hasPrefix("ambassador/") ? "getambassador.io/" + object.apiVersion.dropFirst("ambassador/".count) : object.apiVersion
}

/// `ambassador_id` (or `ambassadorId`): a string or a list. Ours when it names our id, or is exactly
/// `[_automatic_]` (Emissary accepts `_automatic_` only alone); absent means `default`; an empty string or list
/// means nobody's.
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
    return ids.contains(options.ambassadorID) || ids == ["_automatic_"]
}
