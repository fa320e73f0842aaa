import YAML

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
    /// Listeners, Hosts and TLSContexts that are ours, each kind in Emissary's processing order.
    public var listeners: [AmbassadorListener] = []
    public var hosts: [AmbassadorHost] = []
    public var tlsContexts: [AmbassadorTLSContext] = []
    /// The AuthService every request is checked by (Attaché builds one; more are errors).
    public var authService: AuthService?
    /// Secrets with a certificate by `namespace/name` (the last of a name wins).
    public var secrets: [String: TLSSecret] = [:]

    /// True when the input describes its own edge (Listeners or Hosts): routing then goes through them as in
    /// Emissary; without either, Attaché serves every Mapping on one plain HTTP listener.
    public var hasEdge: Bool { !listeners.isEmpty || !hosts.isEmpty }
}

/// What Attaché does with an object of a given apiVersion and kind.
enum ObjectRole: Sendable {
    case mapping, module
    case resolver(ResolverKind)
    case listener, host, tlsContext, authService
    case service, endpoints, endpointSlice, rollout, secret
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
        case ("v1", "Secret"):
            self = .secret
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
        case "Listener": self = .listener
        case "Host": self = .host
        case "TLSContext": self = .tlsContext
        case "AuthService": self = .authService
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

/// Stage: Ambassador objects (decoded, in input order) → Ambassador resources.
///
/// Keeps the objects that are ours (`ambassador_id`), resolves duplicates as Emissary does, checks each Mapping's
/// regexes against the Module's `regex_max_size`, and sorts Mappings into Emissary's processing order.
public func collectAmbassadorResources(
    _ objects: [AmbassadorObject], log: inout DiagnosticLog
) -> AmbassadorResources {
    // Services and endpoints on one side, everything routing is made of on the other: neither reads the other's
    // objects, so the two are built side by side.
    let (tables, routing) = inParallel(
        { collectEndpointTables(objects) },
        { () -> (AmbassadorResources, DiagnosticLog) in
            var routingLog = DiagnosticLog()
            let resources = collectRoutingResources(objects, log: &routingLog)
            return (resources, routingLog)
        })
    var resources = routing.0
    resources.services = tables.services
    resources.endpoints = tables.endpoints
    log.add(contentsOf: routing.1)
    return resources
}

/// Services and endpoints by `namespace/name`, applied in input order: the last Service or Endpoints of a name
/// wins, and EndpointSlices, once one is seen for a Service, replace what Endpoints said.
private func collectEndpointTables(
    _ objects: [AmbassadorObject]
) -> (services: [String: KubernetesService], endpoints: [String: ServiceEndpoints]) {
    var services: [String: KubernetesService] = [:]
    var endpoints: [String: ServiceEndpoints] = [:]
    // Sized up front: growing a dictionary of 14,000 entries rehashes it a dozen times.
    let serviceCount = objects.count { if case .service = $0.content { true } else { false } }
    services.reserveCapacity(serviceCount)
    endpoints.reserveCapacity(serviceCount)
    for object in objects {
        let key = "\(object.reference.namespace)/\(object.reference.name)"
        switch object.content {
        case .service(let service):
            services[key] = service
        case .endpoints(let decoded):
            if endpoints[key]?.source != .endpointSlices { endpoints[key] = decoded }
        case .endpointSlice(let service, let subset):
            let key = "\(object.reference.namespace)/\(service)"
            if endpoints[key]?.source != .endpointSlices {
                // The first slice replaces anything read from Endpoints: slices win.
                endpoints[key] = ServiceEndpoints(
                    namespace: object.reference.namespace, name: service, subsets: [], source: .endpointSlices)
            }
            endpoints[key]?.subsets.append(subset)
        default:
            continue
        }
    }
    return (services, endpoints)
}

/// Mappings, the Module, resolvers and Rollouts: the objects that are ours, duplicates resolved, each Mapping's
/// regexes checked against the Module's limit, Mappings in Emissary's processing order.
private func collectRoutingResources(_ objects: [AmbassadorObject], log: inout DiagnosticLog) -> AmbassadorResources {
    var resources = AmbassadorResources()
    // Mappings and Modules that are ours, by kind (Mapping for every Mapping spelling), namespace and name: the
    // position in `kept` of the one that counts (an index into `objects`, which is input order).
    var slotOf: [ObjectReference: Int] = [:]
    var kept: [Int] = []
    slotOf.reserveCapacity(objects.count { if case .mapping = $0.content { true } else { false } })
    for (position, object) in objects.enumerated() {
        log.add(contentsOf: object.ownershipDiagnostics)
        let kind: String
        switch object.content {
        case .ignored, .service, .endpoints, .endpointSlice, .notOurs:
            continue
        case .secret(let secret):
            resources.secrets[secret.key] = secret
            continue
        case .foreignAnnotation:
            log.error(
                .annotationUnsupportedVersion,
                "apiVersion \"\(object.apiVersion)\" is not an Ambassador version (use getambassador.io/v2 or v3alpha1); document skipped",
                at: object.location, object: object.reference)
            continue
        case .rollout(let rollout, let diagnostics):
            log.add(contentsOf: diagnostics)
            if let rollout, rollout.usesAmbassador { resources.rollouts.append(rollout) }
            continue
        case .resolver(let kind):
            resources.resolvers[object.reference.name] = kind
            continue
        case .misnamed(let severity, let code, let message):
            log.add(Diagnostic(severity, code, message, at: object.location, object: object.reference))
            continue
        case .unsupportedAmbassadorKind:
            reportUnbuiltKind(object, log: &log)
            continue
        case .mapping: kind = "Mapping"
        case .module, .listener, .host, .tlsContext, .authService: kind = object.reference.kind
        }
        let key = ObjectReference(kind: kind, namespace: object.reference.namespace, name: object.reference.name)
        guard let slot = slotOf[key] else {
            slotOf[key] = kept.count
            kept.append(position)
            continue
        }
        // Emissary's fetcher processes a Kubernetes resource once per kind, namespace and name (the first one);
        // then it stores every object under its kind, namespace and name, so of a resource and annotation
        // documents the one it processes last wins: objects are sorted by key (`name.namespace.N`), annotation
        // documents before resources when keys are equal (its Go half hands them over first), then by input order.
        let earlier = kept[slot]
        let bothResources = objects[earlier].origin == .document && object.origin == .document
        let objectWins = !bothResources && processedLater(object, at: position, than: objects[earlier], at: earlier)
        let (winner, loser) = objectWins ? (position, earlier) : (earlier, position)
        log.error(
            .duplicateObject,
            "\(kind) \(object.reference.namespace)/\(object.reference.name) is defined twice; the definition at \(objects[winner].location) wins (\(bothResources ? "Emissary reads one resource of a name, the first" : "Emissary keeps the one it processes last")) and this one is ignored",
            at: objects[loser].location, object: key)
        kept[slot] = winner
    }

    // The Module first: its settings (regex_max_size) bound how Mappings are checked.
    for position in kept {
        guard case .module(let module, let diagnostics) = objects[position].content else { continue }
        let object = objects[position]
        guard object.reference.name == "ambassador" else {
            log.note(
                .unsupportedKind, "only the Module named `ambassador` is read; skipped", at: object.location,
                object: object.reference)
            continue
        }
        log.add(contentsOf: diagnostics)
        if let module { resources.module = module }
    }
    collectEdge(
        kept.map { objects[$0] }, ranks: kept.map { processingTieBreak(objects[$0], at: $0) }, into: &resources,
        log: &log)
    let limit = resources.module.regexMaxSize
    var mappings: [(Mapping, Int)] = []
    var v3NoticeGiven = false
    for position in kept {
        guard case .mapping(let decoded) = objects[position].content else { continue }
        for diagnostic in decoded.diagnostics {
            // The "v3alpha1 without hostname" notice is said once, not once per Mapping, and not at all when
            // Hosts decide (each Mapping no Host takes gets its own warning then).
            if diagnostic.code == .v3MappingWithoutHostname {
                if v3NoticeGiven || resources.hasEdge { continue }
                v3NoticeGiven = true
            }
            log.add(diagnostic)
        }
        var acceptable = true
        for regex in decoded.regexes where regex.programSize > limit {
            log.error(
                .regexInvalid,
                "\(regex.field) is not a valid RE2 regex: \(RE2Check.sizeProblem(size: regex.programSize, limit: limit))",
                at: regex.location, object: objects[position].reference)
            acceptable = false
        }
        if acceptable, let mapping = decoded.mapping {
            mappings.append((mapping, processingTieBreak(objects[position], at: position)))
        }
    }
    // Emissary's processing order: sorted by key, compared as bytes so that no locale can change it; equal keys
    // with annotation documents first, then in input order.
    let order = codePointOrder(mappings.map(\.0.processingKey), ranks: mappings.map(\.1))
    resources.mappings = order.map { mappings[$0].0 }
    resources.rollouts.sort {
        codePointLess(
            "\($0.reference.namespace)/\($0.reference.name)", "\($1.reference.namespace)/\($1.reference.name)")
    }
    return resources
}

/// An Ambassador kind Attaché does not build: a warning, and an error (exit status 1) for the kinds that protect
/// traffic, so that a CI gate running `attache translate` notices that protection it asked for is missing.
private func reportUnbuiltKind(_ object: AmbassadorObject, log: inout DiagnosticLog) {
    let kind = object.reference.kind
    if protectingKinds.contains(kind) {
        log.error(
            .unsupportedKind,
            "\(kind) is not built by Attaché yet: requests are NOT \(kind == "AuthService" ? "authenticated" : "rate limited"); the rest is translated",
            at: object.location, object: object.reference)
    } else {
        log.warning(
            .unsupportedKind, "\(kind) is not built by Attaché yet; skipped (nothing it asks for is in the output)",
            at: object.location, object: object.reference)
    }
}

/// Kinds whose absence leaves traffic unprotected.
private let protectingKinds: Set<String> = ["AuthService", "RateLimitService", "FilterPolicy", "Filter"]

/// Listeners, Hosts and TLSContexts (duplicates already resolved), each kind in Emissary's processing order, with
/// what decoding them reported.
private func collectEdge(
    _ objects: [AmbassadorObject], ranks: [Int], into resources: inout AmbassadorResources, log: inout DiagnosticLog
) {
    let order = codePointOrder(objects.map(\.processingKey), ranks: ranks)
    for index in order {
        switch objects[index].content {
        case .listener(let listener, let diagnostics):
            log.add(contentsOf: diagnostics)
            guard let listener else { continue }
            // Envoy refuses every listener when two bind one port: the first (in processing order) keeps it.
            if let first = resources.listeners.first(where: { $0.port == listener.port }) {
                log.error(
                    .listenerConflict,
                    "port \(listener.port) is already Listener \(first.reference.namespace)/\(first.reference.name)'s; this Listener is skipped",
                    at: listener.location, object: listener.reference)
                continue
            }
            resources.listeners.append(listener)
        case .host(let host, let diagnostics):
            log.add(contentsOf: diagnostics)
            if let host { resources.hosts.append(host) }
        case .tlsContext(let context, let diagnostics):
            log.add(contentsOf: diagnostics)
            if let context { resources.tlsContexts.append(context) }
        case .authService(let service, let diagnostics):
            log.add(contentsOf: diagnostics)
            let object = objects[index]
            guard let service else {
                log.error(
                    .authServiceInvalid, "the AuthService is refused, so requests are NOT authenticated",
                    at: object.location, object: object.reference)
                continue
            }
            if let first = resources.authService {
                log.error(
                    .authServiceConflict,
                    "only one AuthService is built and \(first.reference.namespace)/\(first.reference.name) comes first; this one is not used",
                    at: service.location, object: service.reference)
            } else {
                resources.authService = service
            }
        default:
            continue
        }
    }
}

/// Whether Emissary processes `object` (at `position` in input order) after `other`: by processing key (compared as
/// bytes), then annotation documents before resources (Emissary's Go half hands Services and their annotations over
/// first), then input order.
func processedLater(_ object: AmbassadorObject, at position: Int, than other: AmbassadorObject, at otherPosition: Int)
    -> Bool
{
    let order = codePointCompare(object.processingKey, other.processingKey)
    if order != 0 { return order > 0 }
    return processingTieBreak(object, at: position) > processingTieBreak(other, at: otherPosition)
}

/// The order of objects with equal processing keys: annotation documents first, then resources, each in input order.
func processingTieBreak(_ object: AmbassadorObject, at position: Int) -> Int {
    if case .annotation = object.origin { return position }
    return position + (1 << 40)
}

/// `ambassador/vN` is the annotation spelling of `getambassador.io/vN`.
func annotationNormalizedVersion(_ object: KubernetesObject) -> String {
    object.apiVersion.hasPrefix("ambassador/")
        ? "getambassador.io/" + object.apiVersion.dropFirst("ambassador/".count) : object.apiVersion
}

/// `ambassador_id` (or `ambassadorId`): a string or a list. Ours when it names our id, or is exactly
/// `[_automatic_]` (Emissary accepts `_automatic_` only alone); absent means `default`; an empty string or list
/// means nobody's.
func isOurs(_ object: KubernetesObject, ambassadorID: String, log: inout DiagnosticLog) -> Bool {
    guard let node = object.fields["ambassador_id"] ?? object.fields["ambassadorId"], node.resolved != .null else {
        return ambassadorID == "default"
    }
    let ids: [String]
    if let items = node.sequence {
        ids = items.compactMap { $0.scalar?.text }
    } else if let text = node.scalar?.text {
        ids = text.isEmpty ? [] : [text]
    } else {
        log.error(
            .ambassadorIDInvalid,
            "`ambassador_id` must be a string or a list of strings, but it is \(node.typeDescription); object skipped",
            at: object.location(of: node), object: object.reference)
        return false
    }
    return ids.contains(ambassadorID) || ids == ["_automatic_"]
}
