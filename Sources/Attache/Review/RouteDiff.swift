/// What a change does to routing: routes added, removed or routing differently, and clusters added, removed or
/// changed; compared on the routing model, so that key order, list order and cluster renames are not noise.
public struct RoutingDiff: Sendable {
    public enum Kind: String, Sendable { case added, removed, changed }

    public struct Entry: Sendable {
        public var kind: Kind
        /// What the entry is about: a route's match (`* /api/ [x-beta: on]`) or a cluster's name.
        public var subject: String
        public var details: [String]
    }

    public var routes: [Entry] = []
    public var clusters: [Entry] = []
    /// Diagnostics only one side has (compared without their positions, which move with the text).
    public var diagnosticsOnlyOld: [String] = []
    public var diagnosticsOnlyNew: [String] = []

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
public func diffRouting(
    old: RoutingModel, new: RoutingModel, oldDiagnostics: [Diagnostic] = [], newDiagnostics: [Diagnostic] = []
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
        clusters[route.cluster].map(upstreamName) ?? route.cluster
    }
    func distribution(
        _ indices: [Int], _ routes: [Route], _ routeShares: [Int], _ index: RouteIndex,
        _ clusters: [String: UpstreamCluster], probe: ProbeRequest?
    ) -> [String: Int] {
        var shares: [String: Int] = [:]
        if let probe {
            let outcome = evaluate(probe, routes: routes, index: index)
            for share in outcome.shares {
                shares[
                    "\(routes[share.route].mapping.namespace)/\(routes[share.route].mapping.name) → \(upstream(routes[share.route], clusters))",
                    default: 0] += share.percent
            }
            if outcome.unrouted > 0 { shares["no route (404)"] = outcome.unrouted }
        } else {
            for index in indices {
                shares[
                    "\(routes[index].mapping.namespace)/\(routes[index].mapping.name) → \(upstream(routes[index], clusters))",
                    default: 0] += routeShares[index]
            }
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
                    details: describeShares(shares)
                        + added.map { "from \(newRoutes[$0].mapping) (\(newRoutes[$0].location))" }))
        case (let removed?, nil):
            diff.routes.append(
                .init(
                    kind: .removed, subject: key,
                    details: removed.map { "was \(oldRoutes[$0].mapping) → \(upstream(oldRoutes[$0], oldClusters))" }))
        case (let before?, let after?):
            let probe = probeRequest(for: newRoutes[after[0]])
            let was = distribution(before, oldRoutes, oldShares, oldIndex, oldClusters, probe: probe)
            let now = distribution(after, newRoutes, newShares, newIndex, newClusters, probe: probe)
            var details: [String] = []
            if was != now {
                details.append(
                    Set(was.keys).union(now.keys).sorted().map { "\($0) \(was[$0] ?? 0)% → \(now[$0] ?? 0)%" }.joined(
                        separator: ", "))
            }
            // Per-Mapping settings of the routes with this match.
            for index in after {
                let route = newRoutes[index]
                guard let previous = before.map({ oldRoutes[$0] }).first(where: { $0.mapping == route.mapping }) else {
                    continue
                }
                details += settingChanges(previous, route).map {
                    "\(route.mapping.namespace)/\(route.mapping.name): \($0)"
                }
            }
            if !details.isEmpty { diff.routes.append(.init(kind: .changed, subject: key, details: details)) }
        case (nil, nil):
            break
        }
    }

    for name in Set(oldClusters.keys).union(newClusters.keys).sorted(by: codePointLess) {
        switch (oldClusters[name], newClusters[name]) {
        case (nil, let added?):
            diff.clusters.append(.init(kind: .added, subject: name, details: [added.upstreamDescription]))
        case (let removed?, nil):
            diff.clusters.append(.init(kind: .removed, subject: name, details: [removed.upstreamDescription]))
        case (let was?, let now?):
            let changes = clusterChanges(was, now)
            if !changes.isEmpty { diff.clusters.append(.init(kind: .changed, subject: name, details: changes)) }
        default: break
        }
    }

    func positionless(_ diagnostics: [Diagnostic]) -> [String] {
        diagnostics.map {
            "\($0.severity.rawValue): [\($0.code.rawValue)] \($0.message)\($0.object.map { " (\($0))" } ?? "")"
        }
    }
    let oldSet = Set(positionless(oldDiagnostics)), newSet = Set(positionless(newDiagnostics))
    diff.diagnosticsOnlyOld = oldSet.subtracting(newSet).sorted()
    diff.diagnosticsOnlyNew = newSet.subtracting(oldSet).sorted()
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

/// The settings that differ between two routes of one Mapping, as `name old → new`, through
/// `RouteSettings.described`: a new setting is compared without being named here.
private func settingChanges(_ was: Route, _ now: Route) -> [String] {
    zip(was.settings.described, now.settings.described).compactMap { before, after in
        before.value == after.value ? nil : "\(before.name) \(before.value) → \(after.value)"
    }
}

private func clusterChanges(_ was: UpstreamCluster, _ now: UpstreamCluster) -> [String] {
    var changes: [String] = []
    if upstreamName(was) != upstreamName(now) { changes.append("upstream \(upstreamName(was)) → \(upstreamName(now))") }
    if was.connectTimeoutMs != now.connectTimeoutMs {
        changes.append(
            "connect timeout \(Envoy.duration(milliseconds: was.connectTimeoutMs)) → \(Envoy.duration(milliseconds: now.connectTimeoutMs))"
        )
    }
    if was.tls != now.tls { changes.append("TLS \(was.tls ? "on" : "off") → \(now.tls ? "on" : "off")") }
    if was.ipv6 != now.ipv6 { changes.append("IPv6 \(was.ipv6 ? "on" : "off") → \(now.ipv6 ? "on" : "off")") }
    let before = Set(was.members), after = Set(now.members)
    if before != after {
        changes.append(
            "+\(after.subtracting(before).count) −\(before.subtracting(after).count) endpoints (now \(after.count))")
    }
    return changes
}

private func describeShares(_ shares: [String: Int]) -> [String] {
    [shares.keys.sorted().map { "\($0) \(shares[$0] ?? 0)%" }.joined(separator: ", ")]
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
                for detail in entry.details { lines.append("      \(detail)") }
            }
        }
        if !clusters.isEmpty {
            lines.append("clusters:")
            for entry in clusters {
                lines.append(
                    "  \(symbol[entry.kind] ?? "?") \(entry.subject): \(entry.details.joined(separator: "; "))")
            }
        }
        if !diagnosticsOnlyOld.isEmpty || !diagnosticsOnlyNew.isEmpty {
            lines.append("diagnostics:")
            for line in diagnosticsOnlyOld { lines.append("  - \(line)") }
            for line in diagnosticsOnlyNew { lines.append("  + \(line)") }
        }
        return lines.joined(separator: "\n")
    }

    public var json: JSONValue {
        func entries(_ list: [Entry]) -> JSONValue {
            .array(
                list.map {
                    .object([
                        ("change", .string($0.kind.rawValue)), ("subject", .string($0.subject)),
                        ("details", .array($0.details.map(JSONValue.string))),
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
                    ("only_old", .array(diagnosticsOnlyOld.map(JSONValue.string))),
                    ("only_new", .array(diagnosticsOnlyNew.map(JSONValue.string))),
                ])
            ),
        ])
    }
}
