import YAML

/// Stage: Ambassador resources → routing model.
///
/// One pass over the Mappings (already in processing order) gives each its upstream; a second groups them; each
/// group is checked, normalised and turned into routes; one sort puts the groups in route order. No step looks at
/// all routes per route, so the cost grows with the number of Mappings.
public func buildRoutingModel(
    _ resources: AmbassadorResources, options: TranslationOptions, log: inout DiagnosticLog
) -> RoutingModel {
    // The serial steps below work on positions and on arrays gathered by the parallel steps; they never copy a
    // Mapping or a key (each copy is a reference count on an object another processor made: a cache miss).
    let mappings = resources.mappings

    // 1. Each Mapping's upstream and group key (each on its own: in batches on all processors). Candidates: the
    //    Mappings that have an upstream, in processing order, by their position in `mappings`; each batch hands
    //    back flat arrays, so that joining them copies no tuples.
    struct Candidates: Sendable {
        var positions: [Int] = []
        var upstreams: [Prehashed<UpstreamCluster.Identity>] = []
        var groupKeys: [CanaryGroupKey] = []
        var diagnostics: [Diagnostic] = []
    }
    let candidateBatches = parallelMap(batches(of: Array(mappings.indices), minimumSize: 1024)) { batch in
        var found = Candidates()
        found.positions.reserveCapacity(batch.count)
        found.upstreams.reserveCapacity(batch.count)
        found.groupKeys.reserveCapacity(batch.count)
        for index in batch {
            var mappingLog = DiagnosticLog()
            let mapping = mappings[index]
            if let upstream = upstreamIdentity(for: mapping, resources: resources, options: options, log: &mappingLog) {
                found.positions.append(index)
                found.upstreams.append(Prehashed(upstream))
                found.groupKeys.append(mapping.groupKey)
            }
            found.diagnostics.append(contentsOf: mappingLog.items)
        }
        return found
    }
    var found = Candidates()
    for batch in candidateBatches {
        found.positions.append(contentsOf: batch.positions)
        found.upstreams.append(contentsOf: batch.upstreams)
        found.groupKeys.append(contentsOf: batch.groupKeys)
        log.add(contentsOf: batch.diagnostics)
    }
    let (candidates, candidateUpstreams) = (found.positions, found.upstreams)

    // 2. Canary groups, in the order they were formed (it breaks route-order ties): group g's candidates are
    //    groupMembers[groupStart[g]..<groupStart[g + 1]], in processing order.
    let grouping = numberByFirstOccurrence(found.groupKeys)
    let (groupMembers, groupStart) = positionsByNumber(grouping.number, count: grouping.first.count)

    // 3. Reject what cannot join its group (each group on its own, on all processors); number the upstreams the
    //    survivors use, in route-building order (an identity is hashed once, in step 1, then referred to by
    //    number); resolve endpoint members once per cluster (on all processors) and name the clusters.
    // nil survivors: the whole group stays (nearly always), and no array comes back.
    let admitted = parallelMap(count: grouping.first.count) { group -> (survivors: [Int]?, diagnostics: [Diagnostic]) in
        var groupLog = DiagnosticLog()
        let members = groupMembers[groupStart[group]..<groupStart[group + 1]]
        let survivors = admitToGroup(members.map { mappings[candidates[$0]] }, log: &groupLog)
        return (survivors.count == members.count ? nil : survivors.map { members[members.startIndex + $0] }, groupLog.items)
    }
    // The accepted groups' candidates, flattened: accepted group a is routed[acceptedStart[a]..<acceptedStart[a + 1]].
    var routed: [Int] = []
    var acceptedStart: [Int] = [0]
    routed.reserveCapacity(candidates.count)
    for (group, result) in admitted.enumerated() {
        if !result.diagnostics.isEmpty { log.add(contentsOf: result.diagnostics) }
        if let survivors = result.survivors {
            guard !survivors.isEmpty else { continue }
            routed.append(contentsOf: survivors)
        } else {
            routed.append(contentsOf: groupMembers[groupStart[group]..<groupStart[group + 1]])
        }
        acceptedStart.append(routed.count)
    }
    let interning = numberByFirstOccurrence(routed.map { candidateUpstreams[$0] })
    let clusterOfRouted = interning.number
    let identities = interning.first.map { candidateUpstreams[routed[$0]].key }
    let (clusterUsers, clusterUsersStart) = positionsByNumber(clusterOfRouted, count: identities.count)
    let (routedList, acceptedSpans) = (routed, acceptedStart)
    let resolved = parallelMap(count: identities.count) { number -> (members: [EndpointAddress], diagnostics: [Diagnostic]) in
        var clusterLog = DiagnosticLog()
        let firstMapping = mappings[candidates[routedList[interning.first[number]]]]
        let members = resolveMembers(of: identities[number], firstMapping: firstMapping, resources: resources, log: &clusterLog)
        return (members, clusterLog.items)
    }
    for index in resolved.indices where !resolved[index].diagnostics.isEmpty { log.add(contentsOf: resolved[index].diagnostics) }
    let names = clusterNames(for: identities)

    // 4. Routes, group by group (each on its own: in batches on all processors), built straight into route order:
    //    a group's place in the table is its first Mapping's.
    let module = resources.module
    let groupCount = acceptedSpans.count - 1
    let routeOrder = routeTableOrder(parallelMap(count: groupCount) { mappings[candidates[routedList[acceptedSpans[$0]]]].routeOrder })
    let (groups, groupDiagnostics) = parallelUnzip(count: groupCount) { position -> (CanaryGroup, [Diagnostic]) in
        var groupLog = DiagnosticLog()
        let group = routeOrder[position]
        let span = acceptedSpans[group]..<acceptedSpans[group + 1]
        let groupMappings = span.map { mappings[candidates[routedList[$0]]] }
        let routes = buildRoutes(groupMappings, clusters: span.map { names[clusterOfRouted[$0]] }, module: module, log: &groupLog)
        return (CanaryGroup(routes: routes, order: groupMappings[0].routeOrder), groupLog.items)
    }
    // In route order: the log is sorted by place in the input when it is reported.
    for diagnostics in groupDiagnostics where !diagnostics.isEmpty { log.add(contentsOf: diagnostics) }

    var model = RoutingModel()
    model.regexMaxProgramSize = module.regexMaxSize
    model.groups = groups
    let byName = codePointOrder(names)
    model.clusters = parallelMap(count: byName.count) { position in
        let number = byName[position]
        let identity = identities[number]
        let users = clusterUsers[clusterUsersStart[number]..<clusterUsersStart[number + 1]]
        return UpstreamCluster(
            name: names[number], discovery: identity.discovery, tls: identity.tls,
            connectTimeoutMs: identity.connectTimeoutMs, ipv6: identity.ipv6, members: resolved[number].members,
            mappings: users.map { mappings[candidates[routedList[$0]]].reference })
    }
    if model.groups.isEmpty {
        log.warning(.nothingToRoute, "no Mapping could be routed; Envoy will answer 404 to every request", at: nil)
    }
    return model
}

/// The routes of one canary group: its Mappings (in processing order) and the name of each one's cluster.
func buildRoutes(_ mappings: [Mapping], clusters: [String], module: AmbassadorModule, log: inout DiagnosticLog) -> [Route] {
    let weights = normalizedWeights(mappings.map(\.weight))
    if mappings.count > 1, let last = weights.cumulative.last, last < 100 {
        log.warning(
            .groupWeightsBelow100,
            "the weights of the \(mappings.count) Mappings on prefix \(mappings[0].match.prefix) add up to \(last); the other \(100 - last)% of requests fall through to the next matching route",
            at: mappings[0].weightLocation ?? mappings[0].location, object: mappings[0].reference)
    }
    // Emissary merges the header additions of a group and takes the rest of the group-wide settings from
    // its last Mapping; route-level settings (rewrite, timeouts, host_rewrite, ...) stay per Mapping.
    let addRequest = mergedAdditions([module.defaultAddRequestHeaders] + mappings.map(\.route.addRequestHeaders))
    let addResponse = mergedAdditions([module.defaultAddResponseHeaders] + mappings.map(\.route.addResponseHeaders))
    let lastMapping = mappings[mappings.count - 1]
    // A Mapping that does not set case_sensitive takes the group's: the last Mapping's that sets it (Emissary
    // flattens the group's Mappings into the group, in order, and its routes fall back to the group's value).
    let groupCaseSensitive = mappings.last(where: { $0.match.caseSensitive != nil })?.match.caseSensitive ?? true
    // How the path is matched is the group's, which is its first Mapping's: a Mapping that does not write
    // prefix_regex or prefix_exact joins the group's kind of match (one that writes another value is refused by
    // `admitToGroup`).
    let groupPathMatch = mappings[0].match.pathMatch
    var groupSettings = RouteSettings()
    groupSettings.addRequestHeaders = addRequest
    groupSettings.addResponseHeaders = addResponse
    groupSettings.removeRequestHeaders = lastMapping.route.removeRequestHeaders ?? module.defaultRemoveRequestHeaders ?? []
    groupSettings.removeResponseHeaders = lastMapping.route.removeResponseHeaders ?? module.defaultRemoveResponseHeaders ?? []

    var routes: [Route] = []
    routes.reserveCapacity(mappings.count)
    for (position, memberIndex) in weights.order.enumerated() {
        let mapping = mappings[memberIndex]
        var settings = groupSettings
        settings.prefixRewrite = mapping.route.prefixRewrite
        settings.hostRewrite = mapping.route.hostRewrite
        settings.timeoutMs = mapping.route.timeoutMs ?? module.clusterRequestTimeoutMs ?? AmbassadorDefaults.requestTimeoutMs
        settings.idleTimeoutMs = mapping.route.idleTimeoutMs
        routes.append(Route(
            mapping: mapping.reference, location: mapping.location,
            pathMatch: groupPathMatch, prefix: mapping.match.prefix, caseSensitive: mapping.match.caseSensitive ?? groupCaseSensitive,
            headers: mapping.match.headers, queryParameters: mapping.match.queryParameters,
            cumulativeWeight: weights.cumulative[position], cluster: clusters[memberIndex], settings: settings))
    }
    return routes
}

/// Checks a canary group's Mappings against each other and returns the indices of those that may stay.
///
/// As Emissary's `IRHTTPMappingGroup.add_mapping`: a Mapping that writes one of the group's core fields
/// (`prefix_regex`, `prefix_exact`, `connect_timeout_ms`) differently from the group's first Mapping, or writes one
/// the first leaves out, is refused, and so is one whose header matchers differ from the first's (possible only when
/// their group texts collide). A weight that would push the group's sum above 100 is rejected too (Emissary would
/// emit broken thresholds); the rest of the group still routes.
func admitToGroup(_ mappings: [Mapping], log: inout DiagnosticLog) -> [Int] {
    guard let first = mappings.first else { return [] }
    var survivors: [Int] = []
    var weightSum = 0
    for (index, mapping) in mappings.enumerated() {
        if index > 0, let conflict = coreFieldConflict(mapping, first: first) {
            log.error(
                .groupSettingConflict,
                "Mapping shares prefix \(mapping.match.prefix) and matchers with \(first.reference) but \(conflict); Emissary refuses such a Mapping from the canary group, and so does Attaché (write the same value in every Mapping of the group)",
                at: mapping.location, object: mapping.reference)
            continue
        }
        if let weight = mapping.weight {
            if weightSum + weight > 100 {
                log.error(
                    .groupWeightsExceed100,
                    "weight \(weight) brings the weights on prefix \(mapping.match.prefix) to \(weightSum + weight), above 100; this Mapping is rejected",
                    at: mapping.weightLocation ?? mapping.location, object: mapping.reference)
                continue
            }
            weightSum += weight
        }
        survivors.append(index)
    }
    return survivors
}

/// What makes `mapping` differ from its group's `first` Mapping in a field Emissary requires to be the same, in words;
/// nil when nothing does. Only fields `mapping` writes count (Emissary checks the keys the new Mapping has).
func coreFieldConflict(_ mapping: Mapping, first: Mapping) -> String? {
    func describe<T>(_ value: T?) -> String { value.map { "\($0)" } ?? "nothing" }
    let (mine, theirs) = (mapping.coreFields, first.coreFields)
    if let value = mine.prefixRegex, value != theirs.prefixRegex {
        return "writes `prefix_regex: \(value)` where it writes \(describe(theirs.prefixRegex))"
    }
    if let value = mine.prefixExact, value != theirs.prefixExact {
        return "writes `prefix_exact: \(value)` where it writes \(describe(theirs.prefixExact))"
    }
    if let value = mine.connectTimeoutMs, value != theirs.connectTimeoutMs {
        return "writes `connect_timeout_ms: \(value)` where it writes \(describe(theirs.connectTimeoutMs))"
    }
    let sameMatchers = mapping.match.headers.count == first.match.headers.count
        && zip(mapping.match.headers, first.match.headers).allSatisfy { $0.name == $1.name && $0.valueText == $1.valueText && $0.isRegex == $1.isRegex }
    if !sameMatchers { return "its header matchers differ from the group's (their texts collide)" }
    return nil
}

/// Header additions merged in order: a later entry for the same name replaces an earlier one in place.
func mergedAdditions(_ lists: [[HeaderAddition]]) -> [HeaderAddition] {
    var result: [HeaderAddition] = []
    var position: [String: Int] = [:]
    for list in lists {
        for addition in list {
            let key = addition.name.lowercased()
            if let at = position[key] {
                result[at] = addition
            } else {
                position[key] = result.count
                result.append(addition)
            }
        }
    }
    return result
}

/// Where a Mapping's traffic goes: the resolver's view of its service (a qualified DNS name and port, or a
/// Service port's endpoint set) and the cluster settings that matter.
func upstreamIdentity(
    for mapping: Mapping, resources: AmbassadorResources, options: TranslationOptions, log: inout DiagnosticLog
) -> UpstreamCluster.Identity? {
    guard var resolver = resolverKind(for: mapping, resources: resources, log: &log) else { return nil }
    let service = mapping.upstream.service
    // An IP address is no Kubernetes Service: Emissary's endpoint resolver falls back to a cluster with that address
    // (irserviceresolver; its Go half's parseService uses net.ParseIP).
    if resolver == .kubernetesEndpoint, isIPAddress(service.host) { resolver = .kubernetesService }
    let useAmbassadorNamespace = resources.module.useAmbassadorNamespaceForServiceResolution
    let lookupNamespace = useAmbassadorNamespace ? options.ambassadorNamespace : mapping.reference.namespace
    // The Service object matters only for endpoint routing and named ports; most Mappings need neither.
    let needsService = resolver == .kubernetesEndpoint || service.portName != nil
    let serviceKey = needsService ? serviceObjectKey(service.host, defaultNamespace: lookupNamespace) : ""
    let choice = needsService ? chooseServicePort(resources.services[serviceKey], reference: service) : .unknownService

    let discovery: ClusterDiscovery
    switch (resolver, choice) {
    case (_, .noMatch(let available)) where service.portName != nil:
        log.error(
            .serviceInvalid,
            "port name \"\(service.portName ?? "")\" is not a port of Service \(serviceKey) (ports: \(describe(available))); rejected",
            at: mapping.upstream.location, object: mapping.reference)
        return nil
    case (_, .unknownService) where service.portName != nil:
        log.error(
            .serviceInvalid,
            "port name \"\(service.portName ?? "")\" in `service` needs the v1 Service \(serviceKey) in the input to resolve it; rejected",
            at: mapping.upstream.location, object: mapping.reference)
        return nil
    case (.kubernetesEndpoint, _):
        let port: Int
        switch choice {
        case .port(let p): port = p.port
        case .unknownService, .noMatch: port = service.port ?? service.defaultPort
        }
        let parts = serviceKey.split(separator: "/", maxSplits: 1).map(String.init)
        discovery = .endpoints(namespace: parts[0], service: parts.count > 1 ? parts[1] : "", port: port)
    default:
        var port = service.port ?? service.defaultPort
        if case .port(let p) = choice, service.portName != nil { port = p.port }
        let host = qualifiedServiceHost(
            service.host, mappingNamespace: mapping.reference.namespace, ambassadorNamespace: options.ambassadorNamespace,
            useAmbassadorNamespace: useAmbassadorNamespace)
        discovery = .dns(host: host, port: port)
    }
    return UpstreamCluster.Identity(
        discovery: discovery, tls: service.isTLS,
        connectTimeoutMs: mapping.cluster.connectTimeoutMs ?? AmbassadorDefaults.connectTimeoutMs,
        ipv6: resources.module.enableIPv6)
}

/// The members of an endpoint cluster, warning (once per cluster, at the first Mapping that uses it) when the
/// Service or its endpoints are unknown or no endpoint port fits: such a cluster has no members and Envoy
/// answers 503, which is what Emissary does too, and nothing crashes.
func resolveMembers(
    of identity: UpstreamCluster.Identity, firstMapping mapping: Mapping, resources: AmbassadorResources, log: inout DiagnosticLog
) -> [EndpointAddress] {
    guard case .endpoints(let namespace, let name, let port) = identity.discovery else { return [] }
    let key = "\(namespace)/\(name)"
    guard let endpoints = resources.endpoints[key], endpoints.subsets.contains(where: { !$0.addresses.isEmpty }) else {
        log.warning(
            .endpointsMissing,
            "no ready endpoints are known for Service \(key) (no Endpoints or EndpointSlice in the input lists a ready address); cluster k8s/\(key)/\(port) has no members and Envoy answers 503",
            at: mapping.upstream.location, object: mapping.reference)
        return []
    }
    let service = resources.services[key]
    let servicePort = service?.ports.first { $0.port == port }
    if let service, servicePort == nil {
        log.warning(
            .endpointPortUnmatched,
            "port \(port) is not a port of Service \(key) (ports: \(describe(service.ports))); cluster has no members and Envoy answers 503",
            at: mapping.upstream.location, object: mapping.reference)
        return []
    }
    let unusable = endpoints.subsets.flatMap(\.unusable)
    if !unusable.isEmpty {
        log.warning(
            .addressInvalid,
            "the \(endpoints.source.rawValue) of \(key) list what Envoy cannot use (\(unusable.prefix(5).joined(separator: ", "))\(unusable.count > 5 ? ", ..." : "")); left out",
            at: mapping.upstream.location, object: mapping.reference)
    }
    let resolved = endpointMembers(endpoints, servicePort: servicePort, fallbackPort: port)
    if !resolved.unmatchedPorts.isEmpty {
        log.warning(
            .endpointPortUnmatched,
            "some \(endpoints.source.rawValue) of \(key) have no port matching Service port \(port) (their ports: \(resolved.unmatchedPorts.joined(separator: ", "))); those addresses are left out",
            at: mapping.upstream.location, object: mapping.reference)
    }
    return resolved.members
}

private func describe(_ ports: [KubernetesService.Port]) -> String {
    ports.isEmpty ? "none" : ports.map { p in p.name.map { "\($0):\(p.port)" } ?? "\(p.port)" }.joined(separator: ", ")
}
