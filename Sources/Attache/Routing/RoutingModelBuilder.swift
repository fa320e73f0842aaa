/// Stage: Ambassador resources → routing model.
///
/// One step per function, each on all processors where its work splits: each Mapping's upstream; canary groups;
/// admission into them; the clusters the admitted Mappings use, and their pods; each group's routes, in route
/// order; the cluster list. No step looks at all routes per route, so the cost grows with the number of Mappings.
/// The serial steps work on positions in the arrays the parallel steps gathered and never copy a Mapping or a key
/// (each copy is a reference count on an object another processor made: a cache miss).
public func buildRoutingModel(
    _ resources: AmbassadorResources, ambassadorNamespace: String, log: inout DiagnosticLog
) -> RoutingModel {
    let mappings = resources.mappings
    let routable = resolveUpstreams(mappings, resources: resources, ambassadorNamespace: ambassadorNamespace, log: &log)
    let groups = formCanaryGroups(routable)
    let admitted = admitToGroups(
        groups, routable: routable, mappings: mappings, module: resources.module, log: &log)
    let clusters = internClusters(admitted, routable: routable)
    let members = resolveClusterMembers(
        clusters, routable: routable, mappings: mappings, resources: resources, log: &log)
    let names = clusterNames(for: clusters.identities)

    var model = RoutingModel()
    model.regexMaxProgramSize = resources.module.regexMaxSize
    model.connection = resources.module.connection
    model.groups = buildGroupRoutes(
        admitted, routable: routable, mappings: mappings, clusters: clusters, clusterNames: names,
        module: resources.module, checked: resources.authService != nil, log: &log)
    model.clusters = buildClusterList(
        clusters, names: names, members: members, routable: routable, mappings: mappings)
    let upstreamSecretNames = Set(
        model.clusters.compactMap(\.settings.tlsContext).flatMap { [$0.clientCertificate, $0.trustedCA] }.compactMap {
            $0
        })
    model.upstreamCertificates = upstreamSecretNames.sorted().compactMap { certificateSecret(named: $0, in: resources) }
    model.authorization = buildExternalAuthorization(
        resources, clusters: &model.clusters, ambassadorNamespace: ambassadorNamespace, log: &log)
    if resources.hasEdge {
        model.edge = buildEdgeModel(resources, groups: model.groups, log: &log)
    } else {
        reportUnusedContexts(resources, usedByHosts: [], log: &log)
    }
    if model.groups.isEmpty {
        log.warning(.nothingToRoute, "no Mapping could be routed; Envoy will answer 404 to every request", at: nil)
    }
    return model
}

/// The Mappings that have an upstream, in processing order: the "routable" index space of the steps below.
struct RoutableMappings: Sendable {
    /// Each one's position in `resources.mappings`.
    var mappingIndex: [Int] = []
    /// Each one's upstream, hashed once here and then referred to by number (a placeholder for a redirect, which
    /// has none).
    var upstreams: [Prehashed<UpstreamCluster.Identity>] = []
    var groupKeys: [CanaryGroupKey] = []
    /// Each one's service as `host:port` with the host qualified as Emissary qualifies it: the Location of a
    /// redirect, and the `l5d-dst-override` header of `add_linkerd_headers`.
    var serviceHostPorts: [String] = []

    var count: Int { mappingIndex.count }
}

/// Step 1: each Mapping's upstream and group key, each on its own (in batches on all processors); a Mapping whose
/// upstream cannot be resolved (unknown resolver, bad port name) is left out with its diagnostics. Each batch hands
/// back flat arrays, so that joining them copies no tuples.
func resolveUpstreams(
    _ mappings: [Mapping], resources: AmbassadorResources, ambassadorNamespace: String, log: inout DiagnosticLog
) -> RoutableMappings {
    let selectors = resources.hosts.compactMap(\.mappingSelector).filter { !$0.isEmpty }
    let perBatch = parallelMap(batches(of: Array(mappings.indices), minimumSize: 1024)) {
        batch -> (RoutableMappings, [Diagnostic]) in
        var found = RoutableMappings()
        var diagnostics: [Diagnostic] = []
        found.mappingIndex.reserveCapacity(batch.count)
        found.upstreams.reserveCapacity(batch.count)
        found.groupKeys.reserveCapacity(batch.count)
        for index in batch {
            var mappingLog = DiagnosticLog()
            let mapping = mappings[index]
            // A redirect answers the client itself: it has no upstream to resolve (Emissary makes no cluster).
            let upstream =
                mapping.role.redirect != nil
                ? checkedResolver(for: mapping, resources: resources, log: &mappingLog).map { _ in
                    UpstreamCluster.Identity(
                        discovery: .dns(host: "", port: 0), tls: false, settings: UpstreamSettings())
                }
                : upstreamIdentity(
                    for: mapping, resources: resources, ambassadorNamespace: ambassadorNamespace, log: &mappingLog)
            if let upstream {
                found.mappingIndex.append(index)
                found.upstreams.append(Prehashed(upstream))
                found.groupKeys.append(hostSelectedGroupKey(mapping, selectors: selectors))
                // Only redirects and Linkerd headers use it: most Mappings need not build the string.
                let needsHostPort =
                    mapping.role.redirect != nil
                    || (mapping.role.addLinkerdHeaders ?? resources.module.addLinkerdHeaders)
                found.serviceHostPorts.append(
                    needsHostPort
                        ? serviceHostPort(mapping, module: resources.module, ambassadorNamespace: ambassadorNamespace)
                        : "")
            }
            diagnostics.append(contentsOf: mappingLog.items)
        }
        return (found, diagnostics)
    }
    var routable = RoutableMappings()
    for (batch, diagnostics) in perBatch {
        routable.mappingIndex.append(contentsOf: batch.mappingIndex)
        routable.upstreams.append(contentsOf: batch.upstreams)
        routable.groupKeys.append(contentsOf: batch.groupKeys)
        routable.serviceHostPorts.append(contentsOf: batch.serviceHostPorts)
        log.add(contentsOf: diagnostics)
    }
    return routable
}

/// Step 2: canary groups of routable Mappings (by group key), in the order they were formed, which breaks
/// route-order ties; each group's members in processing order.
func formCanaryGroups(_ routable: RoutableMappings) -> GroupedPositions {
    let grouping = numberByFirstOccurrence(routable.groupKeys)
    return GroupedPositions(numbers: grouping.number, groupCount: grouping.first.count)
}

/// The admitted groups: each one's live Mappings (routable indices, flat), and its shadow and redirect Mapping if
/// it has one. A group with a redirect has no live Mappings; a group with only a shadow routes nothing and is
/// dropped, as in Emissary.
struct AdmittedGroups: Sendable {
    var live = GroupedPositions()
    var shadow: [Int?] = []
    var redirect: [Int?] = []
    /// The Mapping that gives each group its place in the route table (all of a group share it).
    var leader: [Int] = []

    var count: Int { leader.count }
}

/// Step 3: each group checked on its own (on all processors) by `admitToGroup`; what it refuses is left out, and a
/// group left with nothing to route is dropped.
func admitToGroups(
    _ groups: GroupedPositions, routable: RoutableMappings, mappings: [Mapping], module: AmbassadorModule,
    log: inout DiagnosticLog
) -> AdmittedGroups {
    let verdicts = parallelMap(count: groups.count) { group -> (admission: GroupAdmission, diagnostics: [Diagnostic]) in
        var groupLog = DiagnosticLog()
        let members = groups[group]
        let admission = admitToGroup(
            members.map { mappings[routable.mappingIndex[$0]] }, module: module, log: &groupLog)
        return (admission, groupLog.items)
    }
    var admitted = AdmittedGroups()
    admitted.live = GroupedPositions(capacity: routable.count)
    for (group, verdict) in verdicts.enumerated() {
        if !verdict.diagnostics.isEmpty { log.add(contentsOf: verdict.diagnostics) }
        let members = groups[group]
        let admission = verdict.admission
        guard !admission.live.isEmpty || admission.redirect != nil else {
            if let shadow = admission.shadow {
                let mapping = mappings[routable.mappingIndex[members[members.startIndex + shadow]]]
                log.warning(
                    .shadowWithoutPrimary,
                    "shadow Mapping on prefix \(mapping.match.prefix) has no live Mapping with the same prefix and matchers, so nothing is mirrored (as in Emissary)",
                    at: mapping.location, object: mapping.reference)
            }
            continue
        }
        if admission.live.count == members.count {
            admitted.live.append(group: members)  // nearly always: no array is made
        } else {
            admitted.live.append(group: admission.live.map { members[members.startIndex + $0] })
        }
        admitted.shadow.append(admission.shadow.map { members[members.startIndex + $0] })
        admitted.redirect.append(admission.redirect.map { members[members.startIndex + $0] })
        admitted.leader.append(members[members.startIndex + (admission.live.first ?? admission.redirect ?? 0)])
    }
    return admitted
}

/// The clusters the admitted Mappings use: each distinct upstream once, numbered in route-building order.
struct ClusterTable: Sendable {
    var identities: [UpstreamCluster.Identity]
    /// The cluster of each slot of `admitted.live.members` (a slot is one admitted live Mapping).
    var clusterOfSlot: [Int]
    /// The cluster of each group's shadow, if it has one.
    var shadowCluster: [Int?]
    /// The Mappings (routable indices) that use each cluster, live ones first.
    var users: GroupedPositions
}

/// Step 4: numbers the upstreams of the admitted live and shadow Mappings (an identity was hashed once, in step 1).
func internClusters(_ admitted: AdmittedGroups, routable: RoutableMappings) -> ClusterTable {
    let shadows = admitted.shadow.compactMap { $0 }
    let users = admitted.live.members + shadows
    let interning = numberByFirstOccurrence(users.map { routable.upstreams[$0] })
    let liveCount = admitted.live.members.count
    var shadowCluster: [Int?] = []
    var nextShadow = liveCount
    for shadow in admitted.shadow {
        if shadow == nil {
            shadowCluster.append(nil)
        } else {
            shadowCluster.append(interning.number[nextShadow])
            nextShadow += 1
        }
    }
    let byCluster = GroupedPositions(numbers: interning.number, groupCount: interning.first.count)
    var usersByCluster = GroupedPositions(capacity: users.count)
    for cluster in 0..<byCluster.count { usersByCluster.append(group: byCluster[cluster].map { users[$0] }) }
    return ClusterTable(
        identities: interning.first.map { routable.upstreams[users[$0]].key },
        clusterOfSlot: Array(interning.number[..<liveCount]), shadowCluster: shadowCluster, users: usersByCluster)
}

/// Step 5: the pods of each endpoint cluster (on all processors), with warnings said at the first Mapping that
/// uses it.
func resolveClusterMembers(
    _ clusters: ClusterTable, routable: RoutableMappings, mappings: [Mapping], resources: AmbassadorResources,
    log: inout DiagnosticLog
) -> [[EndpointAddress]] {
    let resolved = parallelMap(count: clusters.identities.count) {
        number -> (members: [EndpointAddress], diagnostics: [Diagnostic]) in
        var clusterLog = DiagnosticLog()
        let firstUser = clusters.users[number].first ?? 0
        let firstMapping = mappings[routable.mappingIndex[firstUser]]
        let members = resolveMembers(
            of: clusters.identities[number], firstMapping: firstMapping, resources: resources, log: &clusterLog)
        return (members, clusterLog.items)
    }
    for index in resolved.indices where !resolved[index].diagnostics.isEmpty {
        log.add(contentsOf: resolved[index].diagnostics)
    }
    return resolved.map(\.members)
}

/// Step 6: each admitted group's routes (`buildRoutes`, or the one redirect route; groups in batches on all
/// processors), built straight into route order: a group's place in the table is its leader's.
func buildGroupRoutes(
    _ admitted: AdmittedGroups, routable: RoutableMappings, mappings: [Mapping], clusters: ClusterTable,
    clusterNames: [String], module: AmbassadorModule, checked: Bool, log: inout DiagnosticLog
) -> [CanaryGroup] {
    @Sendable func mapping(_ index: Int) -> Mapping { mappings[routable.mappingIndex[index]] }
    let order = routeTableOrder(parallelMap(count: admitted.count) { mapping(admitted.leader[$0]).routeOrder })
    let (groups, diagnostics) = parallelUnzip(count: admitted.count) { position -> (CanaryGroup, [Diagnostic]) in
        var groupLog = DiagnosticLog()
        let group = order[position]
        let leader = mapping(admitted.leader[group])
        if let redirect = admitted.redirect[group] {
            let route = redirectRoute(mapping(redirect), host: routable.serviceHostPorts[redirect], module: module)
            return (CanaryGroup(routes: [route], order: leader.routeOrder), [])
        }
        let slots = admitted.live.starts[group]..<admitted.live.starts[group + 1]
        let mirror = admitted.shadow[group].flatMap { shadow in
            clusters.shadowCluster[group].map {
                Mirror(cluster: clusterNames[$0], percent: mapping(shadow).weight ?? 100)
            }
        }
        let routes = buildRoutes(
            slots.map { mapping(admitted.live.members[$0]) },
            clusters: slots.map { clusterNames[clusters.clusterOfSlot[$0]] },
            serviceHostPorts: slots.map { routable.serviceHostPorts[admitted.live.members[$0]] }, mirror: mirror,
            module: module, checked: checked, log: &groupLog)
        return (CanaryGroup(routes: routes, order: leader.routeOrder), groupLog.items)
    }
    // In route order: the log is sorted by place in the input when it is reported.
    for list in diagnostics where !list.isEmpty { log.add(contentsOf: list) }
    return groups
}

/// Step 7: the clusters, sorted by name, each with its pods and the Mappings that use it.
func buildClusterList(
    _ clusters: ClusterTable, names: [String], members: [[EndpointAddress]], routable: RoutableMappings,
    mappings: [Mapping]
) -> [UpstreamCluster] {
    let byName = codePointOrder(names)
    return parallelMap(count: byName.count) { position in
        let number = byName[position]
        let identity = clusters.identities[number]
        return UpstreamCluster(
            name: names[number], discovery: identity.discovery, tls: identity.tls, settings: identity.settings,
            members: members[number],
            mappings: clusters.users[number].map { mappings[routable.mappingIndex[$0]].reference })
    }
}

/// A Mapping's group key, with (when it names no host) the labels of every Host mappingSelector that selects it:
/// Emissary keeps Mappings that different Hosts select in different groups (irhttpmapping.py `_group_id`), so that
/// tenants sharing a prefix do not share a canary split.
func hostSelectedGroupKey(_ mapping: Mapping, selectors: [[String: String]]) -> CanaryGroupKey {
    guard !selectors.isEmpty, !mapping.labels.isEmpty,
        !mapping.match.headers.contains(where: { $0.name == ":authority" })
    else { return mapping.groupKey }
    var key = mapping.groupKey.key
    for selector in selectors where selector.allSatisfy({ mapping.labels[$0.key] == $0.value }) {
        for (name, value) in selector.sorted(by: { $0.key < $1.key }) { key += "\u{0}" + name + "=" + value }
    }
    return key == mapping.groupKey.key ? mapping.groupKey : CanaryGroupKey(key)
}
