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
        clusters, admitted: admitted, routable: routable, mappings: mappings, resources: resources, log: &log)
    let names = clusterNames(for: clusters.identities)

    var model = RoutingModel()
    model.regexMaxProgramSize = resources.module.regexMaxSize
    model.groups = buildGroupRoutes(
        admitted, routable: routable, mappings: mappings, clusters: clusters, clusterNames: names,
        module: resources.module, log: &log)
    model.clusters = buildClusterList(
        clusters, names: names, members: members, admitted: admitted, routable: routable, mappings: mappings)
    if model.groups.isEmpty {
        log.warning(.nothingToRoute, "no Mapping could be routed; Envoy will answer 404 to every request", at: nil)
    }
    return model
}

/// The Mappings that have an upstream, in processing order: the "routable" index space of the steps below.
struct RoutableMappings: Sendable {
    /// Each one's position in `resources.mappings`.
    var mappingIndex: [Int] = []
    /// Each one's upstream, hashed once here and then referred to by number.
    var upstreams: [Prehashed<UpstreamCluster.Identity>] = []
    var groupKeys: [CanaryGroupKey] = []

    var count: Int { mappingIndex.count }
}

/// Step 1: each Mapping's upstream and group key, each on its own (in batches on all processors); a Mapping whose
/// upstream cannot be resolved (unknown resolver, bad port name) is left out with its diagnostics. Each batch hands
/// back flat arrays, so that joining them copies no tuples.
func resolveUpstreams(
    _ mappings: [Mapping], resources: AmbassadorResources, ambassadorNamespace: String, log: inout DiagnosticLog
) -> RoutableMappings {
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
            if let upstream = upstreamIdentity(
                for: mapping, resources: resources, ambassadorNamespace: ambassadorNamespace, log: &mappingLog)
            {
                found.mappingIndex.append(index)
                found.upstreams.append(Prehashed(upstream))
                found.groupKeys.append(mapping.groupKey)
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

/// Step 3: each group checked on its own (on all processors) by `admitToGroup`; what it refuses is left out, and a
/// group left empty is dropped. Members are routable indices.
func admitToGroups(
    _ groups: GroupedPositions, routable: RoutableMappings, mappings: [Mapping], module: AmbassadorModule,
    log: inout DiagnosticLog
) -> GroupedPositions {
    // nil: the whole group stays (nearly always), and no array comes back.
    let verdicts = parallelMap(count: groups.count) { group -> (survivors: [Int]?, diagnostics: [Diagnostic]) in
        var groupLog = DiagnosticLog()
        let members = groups[group]
        let survivors = admitToGroup(
            members.map { mappings[routable.mappingIndex[$0]] }, module: module, log: &groupLog)
        return (
            survivors.count == members.count ? nil : survivors.map { members[members.startIndex + $0] }, groupLog.items
        )
    }
    var admitted = GroupedPositions(capacity: routable.count)
    for (group, verdict) in verdicts.enumerated() {
        if !verdict.diagnostics.isEmpty { log.add(contentsOf: verdict.diagnostics) }
        if let survivors = verdict.survivors {
            if !survivors.isEmpty { admitted.append(group: survivors) }
        } else {
            admitted.append(group: groups[group])
        }
    }
    return admitted
}

/// The clusters the admitted Mappings use: each distinct upstream once, numbered in route-building order.
struct ClusterTable: Sendable {
    var identities: [UpstreamCluster.Identity]
    /// The cluster of each slot of `admitted.members` (a slot is one admitted Mapping).
    var clusterOfSlot: [Int]
    /// The slots that use each cluster.
    var users: GroupedPositions
}

/// Step 4: numbers the upstreams of the admitted Mappings (an identity was hashed once, in step 1).
func internClusters(_ admitted: GroupedPositions, routable: RoutableMappings) -> ClusterTable {
    let interning = numberByFirstOccurrence(admitted.members.map { routable.upstreams[$0] })
    return ClusterTable(
        identities: interning.first.map { routable.upstreams[admitted.members[$0]].key },
        clusterOfSlot: interning.number,
        users: GroupedPositions(numbers: interning.number, groupCount: interning.first.count))
}

/// Step 5: the pods of each endpoint cluster (on all processors), with warnings said at the first Mapping that
/// uses it.
func resolveClusterMembers(
    _ clusters: ClusterTable, admitted: GroupedPositions, routable: RoutableMappings, mappings: [Mapping],
    resources: AmbassadorResources, log: inout DiagnosticLog
) -> [[EndpointAddress]] {
    let resolved = parallelMap(count: clusters.identities.count) {
        number -> (members: [EndpointAddress], diagnostics: [Diagnostic]) in
        var clusterLog = DiagnosticLog()
        let firstSlot = clusters.users[number].first ?? 0
        let firstMapping = mappings[routable.mappingIndex[admitted.members[firstSlot]]]
        let members = resolveMembers(
            of: clusters.identities[number], firstMapping: firstMapping, resources: resources, log: &clusterLog)
        return (members, clusterLog.items)
    }
    for index in resolved.indices where !resolved[index].diagnostics.isEmpty {
        log.add(contentsOf: resolved[index].diagnostics)
    }
    return resolved.map(\.members)
}

/// Step 6: each admitted group's routes (`buildRoutes`; groups in batches on all processors), built straight into
/// route order: a group's place in the table is its first Mapping's.
func buildGroupRoutes(
    _ admitted: GroupedPositions, routable: RoutableMappings, mappings: [Mapping], clusters: ClusterTable,
    clusterNames: [String],
    module: AmbassadorModule, log: inout DiagnosticLog
) -> [CanaryGroup] {
    @Sendable func firstMapping(_ group: Int) -> Mapping {
        mappings[routable.mappingIndex[admitted.members[admitted.starts[group]]]]
    }
    let order = routeTableOrder(parallelMap(count: admitted.count) { firstMapping($0).routeOrder })
    let (groups, diagnostics) = parallelUnzip(count: admitted.count) { position -> (CanaryGroup, [Diagnostic]) in
        var groupLog = DiagnosticLog()
        let group = order[position]
        let slots = admitted.starts[group]..<admitted.starts[group + 1]
        let groupMappings = slots.map { mappings[routable.mappingIndex[admitted.members[$0]]] }
        let routes = buildRoutes(
            groupMappings, clusters: slots.map { clusterNames[clusters.clusterOfSlot[$0]] }, module: module,
            log: &groupLog)
        return (CanaryGroup(routes: routes, order: groupMappings[0].routeOrder), groupLog.items)
    }
    // In route order: the log is sorted by place in the input when it is reported.
    for list in diagnostics where !list.isEmpty { log.add(contentsOf: list) }
    return groups
}

/// Step 7: the clusters, sorted by name, each with its pods and the Mappings that use it.
func buildClusterList(
    _ clusters: ClusterTable, names: [String], members: [[EndpointAddress]], admitted: GroupedPositions,
    routable: RoutableMappings, mappings: [Mapping]
) -> [UpstreamCluster] {
    let byName = codePointOrder(names)
    return parallelMap(count: byName.count) { position in
        let number = byName[position]
        let identity = clusters.identities[number]
        return UpstreamCluster(
            name: names[number], discovery: identity.discovery, tls: identity.tls, settings: identity.settings,
            members: members[number],
            mappings: clusters.users[number].map { mappings[routable.mappingIndex[admitted.members[$0]]].reference })
    }
}
