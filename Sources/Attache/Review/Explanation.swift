/// Where one request goes and why: the outcomes with their probabilities, and why nearby routes did not take it.
public struct Explanation: Sendable {
    public struct Outcome: Sendable {
        public var percent: Int
        public var route: Route
        public var cluster: UpstreamCluster?
        /// The path and Host the upstream sees.
        public var upstreamPath: String
        public var upstreamHost: String
        /// For a redirect route: the Location the client is sent to.
        public var redirectLocation: String?
    }

    public var request: ProbeRequest
    public var outcomes: [Outcome]
    /// Percent of such requests no route takes (Envoy answers 404).
    public var unrouted: Int
    /// Routes that could have matched, and why they did not take the request.
    public var others: [(route: Route, reason: String)]
    /// With Listeners and Hosts: the listener, chain and virtual host the request lands on.
    public var place: String? = nil
    /// The connection itself fails there (no listener on the port, no chain for the scheme).
    public var connectionFails = false
    /// The AuthService that checks requests first (`namespace/name`), if there is one.
    public var checkedBy: String? = nil

    public var isRouted: Bool { unrouted < 100 }
}

/// Explains a request against a routing model.
public func explain(_ request: ProbeRequest, in model: RoutingModel) -> Explanation {
    var explanation = explainOnEdge(request, in: model)
    explanation.checkedBy = model.authorization.map {
        "\($0.service.reference.namespace)/\($0.service.reference.name)"
    }
    return explanation
}

/// Explains a request on the listener, chain and virtual host it lands on, when the model has an edge.
private func explainOnEdge(_ request: ProbeRequest, in model: RoutingModel) -> Explanation {
    guard let place = model.edgePlace(for: request) else { return explainTable(request, in: model) }
    guard let view = place.model else {
        return Explanation(
            request: request, outcomes: [], unrouted: 100, others: [], place: place.description,
            connectionFails: place.connectionFails)
    }
    var explanation = explainTable(place.request, in: view)
    explanation.request = request
    explanation.place = place.description
    return explanation
}

/// Explains a request against one route table.
private func explainTable(_ request: ProbeRequest, in model: RoutingModel) -> Explanation {
    let routes = model.routes
    let shares = model.routeShares
    let outcome = evaluate(request, routes: routes)
    let clusters = Dictionary(model.clusters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let regexes = RegexCache()
    let outcomes = outcome.shares.map { share -> Explanation.Outcome in
        let route = routes[share.route]
        let cluster = clusters[route.cluster]
        var host = route.settings.hostRewrite ?? request.host
        if route.settings.autoHostRewrite == true, case .dns(let name, _)? = cluster?.discovery { host = name }
        return Explanation.Outcome(
            percent: share.percent, route: route, cluster: cluster,
            upstreamPath: rewrittenPath(route, request, regexes: regexes), upstreamHost: host,
            redirectLocation: route.redirect?.location(for: request, route: route, regexes: regexes))
    }
    var others: [(Int, String)] = []
    for (index, reason) in outcome.mismatches where couldHaveMatched(routes[index], request, reason) {
        others.append((index, reason.description))
    }
    for index in outcome.shadowed {
        let route = routes[index]
        let reason =
            route.cumulativeWeight < 100 && shares[index] < 100
            ? "matches, but its weight (\(shares[index])%) goes to requests an earlier route already takes"
            : "matches, but earlier routes (higher precedence, longer prefix or more headers) take all of its requests"
        others.append((index, reason))
    }
    return Explanation(
        request: request, outcomes: outcomes, unrouted: outcome.unrouted,
        others: others.sorted { $0.0 < $1.0 }.map { (routes[$0.0], $0.1) })
}

/// A route worth mentioning: it fails on something other than the path, or its path is near the request's (same
/// first segment, or one a prefix of the other).
private func couldHaveMatched(_ route: Route, _ request: ProbeRequest, _ reason: MismatchReason) -> Bool {
    guard case .path = reason else { return true }
    if route.pathMatch == .regex { return false }
    if route.prefix.hasPrefix(request.path) || request.path.hasPrefix(route.prefix) { return true }
    let first = { (path: String) in path.split(separator: "/").first.map(String.init) ?? "" }
    return !first(route.prefix).isEmpty && first(route.prefix) == first(request.path)
}

extension UpstreamCluster {
    /// "svc.ns:80 (DNS)", or the endpoint set and its pods.
    var upstreamDescription: String {
        switch discovery {
        case .dns(let host, let port): return "\(tls ? "https://" : "")\(host):\(port) (DNS)"
        case .endpoints:
            if members.isEmpty { return "no endpoints known (Envoy answers 503)" }
            let shown = members.prefix(5).map {
                $0.address.contains(":") ? "[\($0.address)]:\($0.port)" : "\($0.address):\($0.port)"
            }
            return "pods " + shown.joined(separator: ", ") + (members.count > 5 ? " and \(members.count - 5) more" : "")
        }
    }
}

extension Explanation {
    /// The report for people.
    public var text: String {
        var lines: [String] = []
        var header = "\(request.method) \(request.host)\(request.pathWithQuery)"
        if place != nil { header = "\(request.method) \(request.scheme)://\(request.host)\(request.pathWithQuery)" }
        if !request.headers.isEmpty {
            header += "  " + request.headers.map { "\($0.name): \($0.value)" }.joined(separator: ", ")
        }
        lines.append(header)
        if let place { lines.append("  on \(place)") }
        if connectionFails {
            lines.append("→ not served: no HTTP response")
        } else if outcomes.isEmpty {
            lines.append("→ no route matches: Envoy answers 404")
        } else {
            lines.append(
                "→ \(outcomes.count == 1 && unrouted == 0 ? "routed" : "routed with \(outcomes.count) outcome\(outcomes.count == 1 ? "" : "s")"):"
            )
            for outcome in outcomes {
                let route = outcome.route
                lines.append("  \(String(outcome.percent).leftPadded(3))%  \(route.mapping) (\(route.location))")
                if let redirect = route.redirect, let location = outcome.redirectLocation {
                    lines.append("        redirect \(redirect.status) → \(location)")
                    continue
                }
                if let checkedBy {
                    lines.append(
                        route.settings.bypassAuth
                            ? "        not checked by AuthService \(checkedBy) (bypass_auth)"
                            : "        checked first by AuthService \(checkedBy): a denied request gets its answer instead"
                    )
                }
                lines.append("        cluster \(route.cluster) → \(outcome.cluster?.upstreamDescription ?? "?")")
                if let mirror = route.settings.mirror {
                    lines.append(
                        "        mirrored to \(mirror.cluster) (\(mirror.percent)% of requests, answers dropped)")
                }
                if let settings = outcome.cluster?.settings {
                    let changed = zip(settings.described, UpstreamSettings().described).filter {
                        $0.0.value != $0.1.value
                    }
                    if !changed.isEmpty {
                        lines.append(
                            "        upstream " + changed.map { "\($0.0.name) \($0.0.value)" }.joined(separator: ", "))
                    }
                }
                var details = "path \(outcome.upstreamPath)"
                if outcome.upstreamHost != request.host { details += ", Host rewritten to \(outcome.upstreamHost)" }
                details +=
                    ", timeout \(Envoy.duration(milliseconds: route.settings.timeoutMs ?? AmbassadorDefaults.requestTimeoutMs))"
                lines.append("        " + details)
                // Whatever else this route does differently from a plain one (retries, CORS, upgrades, ...).
                let shown: Set = ["auto host rewrite", "upgrades", "retry policy", "CORS", "hash policy"]
                let extra = changedSettings(
                    route.settings.described.filter { shown.contains($0.name) },
                    from: RouteSettings().described.filter { shown.contains($0.name) })
                if !extra.isEmpty { lines.append("        also " + extra.joined(separator: "; ")) }
            }
            if unrouted > 0 {
                lines.append(
                    "  \(String(unrouted).leftPadded(3))%  no route: Envoy answers 404 (the weights of the matching routes add up to \(100 - unrouted))"
                )
            }
        }
        if !others.isEmpty {
            lines.append("Other routes that could have matched:")
            for (route, reason) in others { lines.append("  \(route.mapping) (\(route.location)): \(reason)") }
        }
        return lines.joined(separator: "\n")
    }

    /// The report for tools.
    public var json: JSONValue {
        .object([
            (
                "request",
                .object([
                    ("method", .string(request.method)), ("scheme", .string(request.scheme)),
                    ("host", .string(request.host)),
                    ("path", .string(request.pathWithQuery)),
                    ("headers", .object(request.headers.map { ($0.name, JSONValue.string($0.value)) })),
                ])
            ),
            ("routed", .bool(isRouted)),
            ("place", place.map(JSONValue.string) ?? .null),
            ("checked_by", checkedBy.map(JSONValue.string) ?? .null),
            (
                "outcomes",
                .array(
                    outcomes.map { outcome in
                        .object([
                            ("percent", .int(outcome.percent)),
                            ("mapping", .string("\(outcome.route.mapping.namespace)/\(outcome.route.mapping.name)")),
                            ("location", .string(outcome.route.location.description)),
                            ("cluster", .string(outcome.route.cluster)),
                            ("upstream", .string(outcome.cluster?.upstreamDescription ?? "")),
                            ("path", .string(outcome.upstreamPath)),
                            ("host", .string(outcome.upstreamHost)),
                            (
                                "timeout_ms",
                                .int(outcome.route.settings.timeoutMs ?? AmbassadorDefaults.requestTimeoutMs)
                            ),
                        ])
                    })
            ),
            ("unrouted_percent", .int(unrouted)),
            (
                "not_taken",
                .array(
                    others.map {
                        .object([
                            ("mapping", .string("\($0.route.mapping.namespace)/\($0.route.mapping.name)")),
                            ("location", .string($0.route.location.description)), ("reason", .string($0.reason)),
                        ])
                    })
            ),
        ])
    }
}
