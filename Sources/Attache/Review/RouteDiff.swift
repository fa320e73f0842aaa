/// What a change does to routing: routes added, removed or routing differently, and clusters added, removed or
/// changed; compared on the routing model, so that key order, list order and cluster renames are not noise.
public struct RoutingDiff: Sendable {
    public enum Kind: String, Sendable { case added, removed, changed }

    /// Where a share of requests goes: a Mapping and its upstream, or nowhere (Envoy answers 404).
    public struct Destination: Hashable, Sendable {
        /// `namespace/name` of the Mapping; nil for requests no route takes.
        public var mapping: String?
        public var upstream: String

        public var text: String { mapping.map { "\($0) → \(upstream)" } ?? "no route (404)" }
    }

    /// One fact of an entry, as data (for `--format json`) with its line of text.
    public enum Detail: Sendable {
        /// How a new route splits its requests, in percent.
        case split([Destination: Int])
        /// How the split of the requests a match takes changed, in percent (0: not there).
        case splitChange(old: [Destination: Int], new: [Destination: Int])
        /// The Mapping behind a new route, and where it is written.
        case definedAt(mapping: ObjectReference, location: SourceLocation)
        /// What a removed route did.
        case was(mapping: ObjectReference, upstream: String)
        /// A route setting of one Mapping that changed (`RouteSettings.described`).
        case setting(mapping: ObjectReference, name: String, old: String, new: String)
        /// What an added or removed cluster stands for.
        case upstream(String)
        /// A cluster field that changed: upstream, connect timeout, TLS, IPv6.
        case field(name: String, old: String, new: String)
        /// Endpoint churn of a cluster.
        case endpoints(added: Int, removed: Int, now: Int)
    }

    public struct Entry: Sendable {
        public var kind: Kind
        /// What the entry is about: a route's match (`* /api/ [x-beta: on]`) or a cluster's name.
        public var subject: String
        public var details: [Detail]
    }

    public var routes: [Entry] = []
    public var clusters: [Entry] = []
    /// Diagnostics only one side has: compared without their positions (which move with the text), reported with
    /// them (the old side's for `diagnosticsOnlyOld`, the new side's for `diagnosticsOnlyNew`).
    public var diagnosticsOnlyOld: [Diagnostic] = []
    public var diagnosticsOnlyNew: [Diagnostic] = []

    public var isEmpty: Bool {
        routes.isEmpty && clusters.isEmpty && diagnosticsOnlyOld.isEmpty && diagnosticsOnlyNew.isEmpty
    }
}

/// Compares two routing models.
///
/// Routes are identified by their match (host, path, headers, query parameters, method). For each match, a request
/// that satisfies it is evaluated against both route tables; a difference in where it goes (which Mapping takes
/// which share, to which upstream) is a change. So a route that only moved in the order but still wins for the
/// same requests is no change, and a reorder that changes who wins is. Where no such request can be made (a regex),
/// the routes with that match are compared directly.
///
/// With Listeners and Hosts, each virtual host's route list is compared on its own (its entries' subjects start
/// with `[port 8443 https a.example.com host a.example.com]`), and the clusters once.
public func diffRouting(
    old: RoutingModel, new: RoutingModel, oldDiagnostics: [Diagnostic] = [], newDiagnostics: [Diagnostic] = []
) -> RoutingDiff {
    guard old.edge != nil || new.edge != nil else {
        return diffTables(old: old, new: new, oldDiagnostics: oldDiagnostics, newDiagnostics: newDiagnostics)
    }
    var oldTables = old, newTables = new
    oldTables.groups = []
    newTables.groups = []
    var diff = diffTables(
        old: oldTables, new: newTables, oldDiagnostics: oldDiagnostics, newDiagnostics: newDiagnostics)
    let oldViews = old.reviewViews(), newViews = new.reviewViews()
    let oldByKey = Dictionary(oldViews.map { ($0.key, $0.model) }, uniquingKeysWith: { a, _ in a })
    let newByKey = Dictionary(newViews.map { ($0.key, $0.model) }, uniquingKeysWith: { a, _ in a })
    var keys = newViews.map(\.key)
    keys += oldViews.map(\.key).filter { newByKey[$0] == nil }
    for key in keys {
        let part = diffTables(
            old: oldByKey[key] ?? old.viewModel([]), new: newByKey[key] ?? new.viewModel([]), oldDiagnostics: [],
            newDiagnostics: [])
        diff.routes += part.routes.map { entry in
            var entry = entry
            entry.subject = key.isEmpty ? entry.subject : key + " " + entry.subject
            return entry
        }
    }
    return diff
}

/// Compares two route tables (and their clusters and diagnostics).
private func diffTables(
    old: RoutingModel, new: RoutingModel, oldDiagnostics: [Diagnostic], newDiagnostics: [Diagnostic]
) -> RoutingDiff {
    var diff = RoutingDiff()
    let oldRoutes = old.routes, newRoutes = new.routes
    let oldShares = old.routeShares, newShares = new.routeShares
    let oldClusters = Dictionary(old.clusters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let newClusters = Dictionary(new.clusters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    // Each side's routes indexed once: a probe is evaluated per match, and scanning every route for each one made
    // diff quadratic (34 s at 14,000 routes).
    let oldIndex = RouteIndex(oldRoutes), newIndex = RouteIndex(newRoutes)
    let oldByMatch = Dictionary(grouping: oldRoutes.indices, by: { matchKey(oldRoutes[$0]) })
    let newByMatch = Dictionary(grouping: newRoutes.indices, by: { matchKey(newRoutes[$0]) })

    func upstream(_ route: Route, _ clusters: [String: UpstreamCluster]) -> String {
        if let redirect = route.redirect { return "redirect \(redirect.status) to \(redirect.target)" }
        return clusters[route.cluster].map(upstreamName) ?? route.cluster
    }
    func distribution(
        _ indices: [Int], _ routes: [Route], _ routeShares: [Int], _ index: RouteIndex,
        _ clusters: [String: UpstreamCluster], probe: ProbeRequest?
    ) -> [RoutingDiff.Destination: Int] {
        func destination(_ route: Route) -> RoutingDiff.Destination {
            RoutingDiff.Destination(
                mapping: "\(route.mapping.namespace)/\(route.mapping.name)", upstream: upstream(route, clusters))
        }
        var shares: [RoutingDiff.Destination: Int] = [:]
        if let probe {
            let outcome = evaluate(probe, routes: routes, index: index)
            for share in outcome.shares { shares[destination(routes[share.route]), default: 0] += share.percent }
            if outcome.unrouted > 0 { shares[RoutingDiff.Destination(mapping: nil, upstream: "")] = outcome.unrouted }
        } else {
            for index in indices { shares[destination(routes[index]), default: 0] += routeShares[index] }
        }
        return shares
    }

    let keys = Set(oldByMatch.keys).union(newByMatch.keys).sorted { codePointLess($0, $1) }
    for key in keys {
        switch (oldByMatch[key], newByMatch[key]) {
        case (nil, let added?):
            let probe = probeRequest(for: newRoutes[added[0]])
            let shares = distribution(added, newRoutes, newShares, newIndex, newClusters, probe: probe)
            diff.routes.append(
                .init(
                    kind: .added, subject: key,
                    details: [.split(shares)]
                        + added.map { .definedAt(mapping: newRoutes[$0].mapping, location: newRoutes[$0].location) }))
        case (let removed?, nil):
            diff.routes.append(
                .init(
                    kind: .removed, subject: key,
                    details: removed.map {
                        .was(mapping: oldRoutes[$0].mapping, upstream: upstream(oldRoutes[$0], oldClusters))
                    }))
        case (let before?, let after?):
            let probe = probeRequest(for: newRoutes[after[0]])
            let was = distribution(before, oldRoutes, oldShares, oldIndex, oldClusters, probe: probe)
            let now = distribution(after, newRoutes, newShares, newIndex, newClusters, probe: probe)
            var details: [RoutingDiff.Detail] = []
            if was != now { details.append(.splitChange(old: was, new: now)) }
            // Per-Mapping settings of the routes with this match.
            for index in after {
                let route = newRoutes[index]
                guard let previous = before.map({ oldRoutes[$0] }).first(where: { $0.mapping == route.mapping }) else {
                    continue
                }
                details += settingChanges(previous, route)
            }
            if !details.isEmpty { diff.routes.append(.init(kind: .changed, subject: key, details: details)) }
        case (nil, nil):
            break
        }
    }

    for name in Set(oldClusters.keys).union(newClusters.keys).sorted(by: codePointLess) {
        switch (oldClusters[name], newClusters[name]) {
        case (nil, let added?):
            diff.clusters.append(.init(kind: .added, subject: name, details: [.upstream(added.upstreamDescription)]))
        case (let removed?, nil):
            diff.clusters.append(
                .init(kind: .removed, subject: name, details: [.upstream(removed.upstreamDescription)]))
        case (let was?, let now?):
            let changes = clusterChanges(was, now)
            if !changes.isEmpty { diff.clusters.append(.init(kind: .changed, subject: name, details: changes)) }
        default: break
        }
    }

    func positionless(_ diagnostic: Diagnostic) -> String {
        "\(diagnostic.severity.rawValue): [\(diagnostic.code.rawValue)] \(diagnostic.message)\(diagnostic.object.map { " (\($0))" } ?? "")"
    }
    let oldSet = Set(oldDiagnostics.map(positionless)), newSet = Set(newDiagnostics.map(positionless))
    diff.diagnosticsOnlyOld = oldDiagnostics.filter { !newSet.contains(positionless($0)) }
    diff.diagnosticsOnlyNew = newDiagnostics.filter { !oldSet.contains(positionless($0)) }
    return diff
}

/// A route's match as people read it: `shop.example.com /api/ [x-beta: "on"] ?debug GET`.
func matchKey(_ route: Route) -> String {
    var host = "*"
    var parts: [String] = []
    var method = ""
    for header in route.headers {
        switch header.name {
        case ":authority": host = header.valueText
        case ":method": method = " " + header.valueText
        default: parts.append("\(header.name): \(describe(header.value))")
        }
    }
    let query = route.queryParameters.map { "?\($0.name)=\(describe($0.value))" }.sorted()
    let path: String
    switch route.pathMatch {
    case .prefix: path = route.prefix
    case .exact: path = "=" + route.prefix
    case .regex: path = "~" + route.prefix
    }
    var key = "\(host) \(path)\(route.caseSensitive ? "" : " (any case)")"
    if !parts.isEmpty { key += " [" + parts.sorted().joined(separator: ", ") + "]" }
    if !query.isEmpty { key += " " + query.joined(separator: " ") }
    return key + method
}

private func describe(_ value: HeaderMatcher.Value) -> String {
    switch value {
    case .exact(let v): return "\"\(v)\""
    case .regex(let r): return r == ".*" ? "present" : "/\(r)/"
    case .hostGlob(let g): return g
    }
}

/// A request that satisfies the route's match, or nil when none can be made (a regex other than `.*`).
func probeRequest(for route: Route) -> ProbeRequest? {
    var request = ProbeRequest(host: "probe.example", path: "/")
    switch route.pathMatch {
    case .prefix: request.path = route.prefix.hasSuffix("/") ? route.prefix + "probe" : route.prefix + "/probe"
    case .exact: request.path = route.prefix
    case .regex: return nil
    }
    func value(_ matcher: HeaderMatcher) -> String? {
        switch matcher.value {
        case .exact(let v): return v
        case .regex(let r): return r == ".*" ? "probe" : nil
        case .hostGlob(let glob): return HostGlob(glob).exampleHost
        }
    }
    for header in route.headers {
        guard let v = value(header) else { return nil }
        switch header.name {
        case ":authority": request.host = v
        case ":method": request.method = v
        default: request.headers.append((header.name.lowercased(), v))
        }
    }
    for parameter in route.queryParameters {
        guard let v = value(parameter) else { return nil }
        request.query.append((parameter.name, v))
    }
    return request
}

/// The upstream a cluster stands for, independent of its name: `svc.ns:80`, `https://x:443`, `pods of k8s/ns/svc/80`.
func upstreamName(_ cluster: UpstreamCluster) -> String {
    switch cluster.discovery {
    case .dns(let host, let port): return "\(cluster.tls ? "https://" : "")\(host):\(port)"
    case .endpoints(let namespace, let service, let port): return "pods of \(namespace)/\(service):\(port)"
    }
}

/// The settings that differ between two routes of one Mapping, through `RouteSettings.described`: a new setting
/// is compared without being named here.
private func settingChanges(_ was: Route, _ now: Route) -> [RoutingDiff.Detail] {
    // A redirect answers before any route setting applies: a route that became one (or stopped being one) is
    // already told in its split; its rewrite or timeout "changing" to nothing is no news.
    guard (was.redirect == nil) == (now.redirect == nil) else { return [] }
    return zip(was.settings.described, now.settings.described).compactMap { before, after in
        before.value == after.value
            ? nil : .setting(mapping: now.mapping, name: before.name, old: before.value, new: after.value)
    }
}

private func clusterChanges(_ was: UpstreamCluster, _ now: UpstreamCluster) -> [RoutingDiff.Detail] {
    var changes: [RoutingDiff.Detail] = []
    func onOff(_ flag: Bool) -> String { flag ? "on" : "off" }
    if upstreamName(was) != upstreamName(now) {
        changes.append(.field(name: "upstream", old: upstreamName(was), new: upstreamName(now)))
    }
    if was.tls != now.tls { changes.append(.field(name: "TLS", old: onOff(was.tls), new: onOff(now.tls))) }
    for (before, after) in zip(was.settings.described, now.settings.described) where before.value != after.value {
        changes.append(.field(name: before.name, old: before.value, new: after.value))
    }
    let before = Set(was.members), after = Set(now.members)
    if before != after {
        changes.append(
            .endpoints(
                added: after.subtracting(before).count, removed: before.subtracting(after).count, now: after.count))
    }
    return changes
}

extension RoutingDiff.Detail {
    /// The line `diff` prints for it.
    public var text: String {
        func sortedText(_ destinations: some Collection<RoutingDiff.Destination>) -> [RoutingDiff.Destination] {
            destinations.sorted { $0.text < $1.text }
        }
        switch self {
        case .split(let shares):
            return sortedText(shares.keys).map { "\($0.text) \(shares[$0] ?? 0)%" }.joined(separator: ", ")
        case .splitChange(let old, let new):
            return sortedText(Set(old.keys).union(new.keys)).map { "\($0.text) \(old[$0] ?? 0)% → \(new[$0] ?? 0)%" }
                .joined(separator: ", ")
        case .definedAt(let mapping, let location): return "from \(mapping) (\(location))"
        case .was(let mapping, let upstream): return "was \(mapping) → \(upstream)"
        case .setting(let mapping, let name, let old, let new):
            return "\(mapping.namespace)/\(mapping.name): \(name) \(old) → \(new)"
        case .upstream(let upstream): return upstream
        case .field(let name, let old, let new): return "\(name) \(old) → \(new)"
        case .endpoints(let added, let removed, let now): return "+\(added) −\(removed) endpoints (now \(now))"
        }
    }

    /// The same fact as data, with its text.
    public var json: JSONValue {
        func destinations(_ list: [(RoutingDiff.Destination, [(String, JSONValue)])]) -> JSONValue {
            .array(
                list.sorted { $0.0.text < $1.0.text }.map { destination, values in
                    .object(
                        [("mapping", destination.mapping.map(JSONValue.string) ?? .null)]
                            + [("upstream", destination.mapping == nil ? .null : .string(destination.upstream))]
                            + values)
                })
        }
        var fields: [(String, JSONValue)]
        switch self {
        case .split(let shares):
            fields = [
                ("type", .string("split")),
                ("to", destinations(shares.map { ($0.key, [("percent", .int($0.value))]) })),
            ]
        case .splitChange(let old, let new):
            fields = [
                ("type", .string("split_change")),
                (
                    "to",
                    destinations(
                        Set(old.keys).union(new.keys).map {
                            ($0, [("old_percent", .int(old[$0] ?? 0)), ("new_percent", .int(new[$0] ?? 0))])
                        })
                ),
            ]
        case .definedAt(let mapping, let location):
            fields = [
                ("type", .string("defined_at")), ("mapping", .string("\(mapping.namespace)/\(mapping.name)")),
                ("location", .string(location.description)),
            ]
        case .was(let mapping, let upstream):
            fields = [
                ("type", .string("was")), ("mapping", .string("\(mapping.namespace)/\(mapping.name)")),
                ("upstream", .string(upstream)),
            ]
        case .setting(let mapping, let name, let old, let new):
            fields = [
                ("type", .string("setting")), ("mapping", .string("\(mapping.namespace)/\(mapping.name)")),
                ("setting", .string(name)), ("old", .string(old)), ("new", .string(new)),
            ]
        case .upstream(let upstream): fields = [("type", .string("upstream")), ("upstream", .string(upstream))]
        case .field(let name, let old, let new):
            fields = [
                ("type", .string("field")), ("field", .string(name)), ("old", .string(old)), ("new", .string(new)),
            ]
        case .endpoints(let added, let removed, let now):
            fields = [
                ("type", .string("endpoints")), ("added", .int(added)), ("removed", .int(removed)), ("now", .int(now)),
            ]
        }
        return .object(fields + [("text", .string(text))])
    }
}

extension RoutingDiff {
    public var text: String {
        if isEmpty { return "no routing change" }
        var lines: [String] = []
        let symbol: [Kind: String] = [.added: "+", .removed: "-", .changed: "~"]
        if !routes.isEmpty {
            lines.append("routes:")
            for entry in routes {
                lines.append("  \(symbol[entry.kind] ?? "?") \(entry.subject)")
                for detail in entry.details { lines.append("      \(detail.text)") }
            }
        }
        if !clusters.isEmpty {
            lines.append("clusters:")
            for entry in clusters {
                lines.append(
                    "  \(symbol[entry.kind] ?? "?") \(entry.subject): \(entry.details.map(\.text).joined(separator: "; "))"
                )
            }
        }
        if !diagnosticsOnlyOld.isEmpty || !diagnosticsOnlyNew.isEmpty {
            lines.append("diagnostics:")
            for diagnostic in diagnosticsOnlyOld { lines.append("  - \(diagnostic)") }
            for diagnostic in diagnosticsOnlyNew { lines.append("  + \(diagnostic)") }
        }
        return lines.joined(separator: "\n")
    }

    public var json: JSONValue {
        func entries(_ list: [Entry]) -> JSONValue {
            .array(
                list.map {
                    .object([
                        ("change", .string($0.kind.rawValue)), ("subject", .string($0.subject)),
                        ("details", .array($0.details.map(\.json))),
                    ])
                })
        }
        return .object([
            ("same", .bool(isEmpty)),
            ("routes", entries(routes)),
            ("clusters", entries(clusters)),
            (
                "diagnostics",
                .object([
                    ("only_old", .array(diagnosticsOnlyOld.map(\.json))),
                    ("only_new", .array(diagnosticsOnlyNew.map(\.json))),
                ])
            ),
        ])
    }
}
