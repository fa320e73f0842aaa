import YAML

/// Stage: Ambassador resources → routing model.
///
/// One pass over the Mappings (already in processing order) gives each its upstream; a second groups them; each
/// group is checked, normalised and turned into routes; one sort puts the groups in route order. No step looks at
/// all routes per route, so the cost grows with the number of Mappings.
public func buildRoutingModel(
    _ resources: AmbassadorResources, options: TranslationOptions, log: inout DiagnosticLog
) -> RoutingModel {
    // 1. Each Mapping's upstream (each on its own: in batches on all processors).
    let upstreams = parallelMap(batches(of: Array(resources.mappings.indices), minimumSize: 1024)) { batch in
        batch.map { index -> (Prehashed<UpstreamCluster.Identity>?, [Diagnostic]) in
            var mappingLog = DiagnosticLog()
            let upstream = upstreamIdentity(for: resources.mappings[index], resources: resources, options: options, log: &mappingLog)
            return (upstream.map(Prehashed.init), mappingLog.items)
        }
    }.joined()
    var candidates: [(mapping: Mapping, upstream: Prehashed<UpstreamCluster.Identity>)] = []
    candidates.reserveCapacity(resources.mappings.count)
    for (mapping, (upstream, diagnostics)) in zip(resources.mappings, upstreams) {
        log.add(contentsOf: diagnostics)
        if let upstream { candidates.append((mapping, upstream)) }
    }

    // 2. Canary groups, in the order they were formed (it breaks route-order ties).
    var groupIndex: [CanaryGroupKey: Int] = [:]
    groupIndex.reserveCapacity(candidates.count)
    var members: [[Int]] = []
    for (index, candidate) in candidates.enumerated() {
        let key = candidate.mapping.groupKey
        if let existing = groupIndex[key] {
            members[existing].append(index)
        } else {
            groupIndex[key] = members.count
            members.append([index])
        }
    }

    // 3. Reject what cannot join its group (each group on its own, on all processors); intern the upstreams the
    //    survivors use (an identity is hashed once, in step 1, then referred to by number); resolve endpoint
    //    members once per cluster (on all processors) and name the clusters.
    let (groupsFormed, candidateMappings) = (members, candidates.map(\.mapping))
    let admitted = parallelMap(batches(of: Array(groupsFormed.indices), minimumSize: 1024)) { batch in
        batch.map { number -> ([Int], [Diagnostic]) in
            var groupLog = DiagnosticLog()
            let group = groupsFormed[number]
            let survivors = admitToGroup(group.map { candidateMappings[$0] }, log: &groupLog).map { group[$0] }
            return (survivors, groupLog.items)
        }
    }.joined()
    var accepted: [[Int]] = []
    var clusterOf: [Int] = Array(repeating: -1, count: candidates.count)
    var identityNumbers: [Prehashed<UpstreamCluster.Identity>: Int] = [:]
    identityNumbers.reserveCapacity(candidates.count)
    var identities: [UpstreamCluster.Identity] = []
    var firstMappings: [Mapping] = []
    var clusterMappings: [[ObjectReference]] = []
    for (survivors, diagnostics) in admitted {
        log.add(contentsOf: diagnostics)
        for index in survivors {
            let identity = candidates[index].upstream
            let number: Int
            if let known = identityNumbers[identity] {
                number = known
            } else {
                number = identities.count
                identityNumbers[identity] = number
                identities.append(identity.key)
                firstMappings.append(candidates[index].mapping)
                clusterMappings.append([])
            }
            clusterOf[index] = number
            clusterMappings[number].append(candidates[index].mapping.reference)
        }
        if !survivors.isEmpty { accepted.append(survivors) }
    }
    let (clusterIdentities, clusterFirstMappings) = (identities, firstMappings)
    let resolved = parallelMap(batches(of: Array(clusterIdentities.indices), minimumSize: 1024)) { batch in
        batch.map { number -> ([EndpointAddress], [Diagnostic]) in
            var clusterLog = DiagnosticLog()
            let members = resolveMembers(
                of: clusterIdentities[number], firstMapping: clusterFirstMappings[number], resources: resources, log: &clusterLog)
            return (members, clusterLog.items)
        }
    }.joined()
    var clusterMembers: [[EndpointAddress]] = []
    clusterMembers.reserveCapacity(identities.count)
    for (addresses, diagnostics) in resolved {
        log.add(contentsOf: diagnostics)
        clusterMembers.append(addresses)
    }
    let names = clusterNames(for: identities)

    // 4. Routes, group by group (each on its own: in batches on all processors).
    let module = resources.module
    let (acceptedGroups, clusterNumbers, routedCandidates) = (accepted, clusterOf, candidates)
    let built = parallelMap(batches(of: Array(acceptedGroups.indices), minimumSize: 1024)) { batch in
        batch.map { index -> (CanaryGroup, [Diagnostic]) in
            var groupLog = DiagnosticLog()
            let group = acceptedGroups[index]
            let mappings = group.map { routedCandidates[$0].mapping }
            let routes = buildRoutes(mappings, clusters: group.map { names[clusterNumbers[$0]] }, module: module, log: &groupLog)
            return (CanaryGroup(routes: routes, order: mappings[0].routeOrder), groupLog.items)
        }
    }.joined()
    var groups: [CanaryGroup] = []
    groups.reserveCapacity(accepted.count)
    for (group, diagnostics) in built {
        log.add(contentsOf: diagnostics)
        groups.append(group)
    }

    var model = RoutingModel()
    model.regexMaxProgramSize = module.regexMaxSize
    model.groups = orderedGroups(groups)
    model.clusters = identities.indices.sorted { codePointLess(names[$0], names[$1]) }.map { number in
        let identity = identities[number]
        return UpstreamCluster(
            name: names[number], discovery: identity.discovery, tls: identity.tls,
            connectTimeoutMs: identity.connectTimeoutMs, ipv6: identity.ipv6, members: clusterMembers[number],
            mappings: clusterMappings[number])
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
            "the weights of the \(mappings.count) Mappings on prefix \(mappings[0].prefix) add up to \(last); the other \(100 - last)% of requests fall through to the next matching route",
            at: mappings[0].weightLocation ?? mappings[0].location, object: mappings[0].reference)
    }
    // Emissary merges the header additions of a group and takes the rest of the group-wide settings from
    // its last Mapping; route-level settings (rewrite, timeouts, host_rewrite, ...) stay per Mapping.
    let addRequest = mergedAdditions([module.defaultAddRequestHeaders] + mappings.map(\.addRequestHeaders))
    let addResponse = mergedAdditions([module.defaultAddResponseHeaders] + mappings.map(\.addResponseHeaders))
    let lastMapping = mappings[mappings.count - 1]
    let removeRequest = lastMapping.removeRequestHeaders ?? module.defaultRemoveRequestHeaders ?? []
    let removeResponse = lastMapping.removeResponseHeaders ?? module.defaultRemoveResponseHeaders ?? []

    var routes: [Route] = []
    routes.reserveCapacity(mappings.count)
    var previous = 0
    for (position, memberIndex) in weights.order.enumerated() {
        let mapping = mappings[memberIndex]
        let threshold = weights.cumulative[position]
        routes.append(Route(
            mapping: mapping.reference, location: mapping.location,
            pathMatch: mapping.pathMatch, prefix: mapping.prefix, caseSensitive: mapping.caseSensitive,
            headers: mapping.headers, queryParameters: mapping.queryParameters,
            cumulativeWeight: threshold, share: max(0, threshold - previous),
            cluster: clusters[memberIndex],
            rewrite: mapping.rewrite.isEmpty ? nil : mapping.rewrite,
            hostRewrite: mapping.hostRewrite,
            timeoutMs: mapping.timeoutMs ?? module.clusterRequestTimeoutMs ?? AmbassadorDefaults.requestTimeoutMs,
            idleTimeoutMs: mapping.idleTimeoutMs,
            addRequestHeaders: addRequest, addResponseHeaders: addResponse,
            removeRequestHeaders: removeRequest, removeResponseHeaders: removeResponse))
        previous = max(previous, threshold)
    }
    return routes
}

/// Checks a canary group's Mappings against each other and returns the indices of those that may stay.
///
/// A Mapping whose path-match kind differs from the group's first is rejected (Emissary would silently build a
/// group that cannot agree on how to match). A weight that would push the group's sum above 100 is rejected
/// (Emissary would emit broken thresholds); the rest of the group still routes.
func admitToGroup(_ mappings: [Mapping], log: inout DiagnosticLog) -> [Int] {
    guard let first = mappings.first else { return [] }
    var survivors: [Int] = []
    var weightSum = 0
    for (index, mapping) in mappings.enumerated() {
        if mapping.pathMatch != first.pathMatch {
            log.error(
                .groupSettingConflict,
                "Mapping shares prefix \(mapping.prefix) and matchers with \(first.reference) but uses a \(mapping.pathMatch.rawValue) match where it uses a \(first.pathMatch.rawValue) match; rejected",
                at: mapping.location, object: mapping.reference)
            continue
        }
        if let weight = mapping.weight {
            if weightSum + weight > 100 {
                log.error(
                    .groupWeightsExceed100,
                    "weight \(weight) brings the weights on prefix \(mapping.prefix) to \(weightSum + weight), above 100; this Mapping is rejected",
                    at: mapping.weightLocation ?? mapping.location, object: mapping.reference)
                continue
            }
            weightSum += weight
        }
        survivors.append(index)
    }
    return survivors
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
    guard let resolver = resolverKind(for: mapping, resources: resources, log: &log) else { return nil }
    let service = mapping.service
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
            at: mapping.serviceLocation, object: mapping.reference)
        return nil
    case (_, .unknownService) where service.portName != nil:
        log.error(
            .serviceInvalid,
            "port name \"\(service.portName ?? "")\" in `service` needs the v1 Service \(serviceKey) in the input to resolve it; rejected",
            at: mapping.serviceLocation, object: mapping.reference)
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
        connectTimeoutMs: mapping.connectTimeoutMs ?? AmbassadorDefaults.connectTimeoutMs,
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
            at: mapping.serviceLocation, object: mapping.reference)
        return []
    }
    let service = resources.services[key]
    let servicePort = service?.ports.first { $0.port == port }
    if let service, servicePort == nil {
        log.warning(
            .endpointPortUnmatched,
            "port \(port) is not a port of Service \(key) (ports: \(describe(service.ports))); cluster has no members and Envoy answers 503",
            at: mapping.serviceLocation, object: mapping.reference)
        return []
    }
    let resolved = endpointMembers(endpoints, servicePort: servicePort, fallbackPort: port)
    if !resolved.unmatchedPorts.isEmpty {
        log.warning(
            .endpointPortUnmatched,
            "some \(endpoints.source.rawValue) of \(key) have no port matching Service port \(port) (their ports: \(resolved.unmatchedPorts.joined(separator: ", "))); those addresses are left out",
            at: mapping.serviceLocation, object: mapping.reference)
    }
    return resolved.members
}

private func describe(_ ports: [KubernetesService.Port]) -> String {
    ports.isEmpty ? "none" : ports.map { p in p.name.map { "\($0):\(p.port)" } ?? "\(p.port)" }.joined(separator: ", ")
}
