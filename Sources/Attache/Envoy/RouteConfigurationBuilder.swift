/// Stage (part): routing model → Envoy RouteConfiguration. One virtual host for every domain; host matching is
/// done with `:authority` header matchers on each route, so that a single ordered route list decides, as in
/// Emissary's route table.
public func buildRouteConfiguration(_ model: RoutingModel) -> Envoy.RouteConfiguration {
    // Route by route on all processors, each straight into its place in the table: route r of the table is route
    // r - starts[g] of the last group g that starts at or before r.
    var starts: [Int] = []
    starts.reserveCapacity(model.groups.count)
    var total = 0
    for group in model.groups {
        starts.append(total)
        total += group.routes.count
    }
    let groupStarts = starts
    let checked = model.authorization != nil
    let routes = parallelMap(count: total) { index -> Envoy.Route in
        var low = 0, high = groupStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if groupStarts[middle] <= index { low = middle } else { high = middle - 1 }
        }
        return envoyRoute(model.groups[low].routes[index - groupStarts[low]], checked: checked)
    }
    return Envoy.RouteConfiguration(
        name: Envoy.routeConfigurationName,
        virtualHosts: [Envoy.VirtualHost(name: "attache", domains: ["*"], routes: routes)])
}

/// One model route as an Envoy route. The canary share becomes `runtime_fraction` with the route's cumulative
/// threshold: Envoy draws one random number per request and the first route whose threshold exceeds it wins.
/// `checked`: an AuthService checks requests, except on `bypass_auth` routes and redirects (which answer before
/// any check, as in Emissary).
func envoyRoute(_ route: Route, checked: Bool = false) -> Envoy.Route {
    let path: Envoy.RouteMatch.Path
    switch route.pathMatch {
    case .prefix: path = .prefix(route.prefix)
    case .exact: path = .path(route.prefix)
    // Envoy's `case_sensitive` does not apply to regexes: written anyway (as Emissary does), it changes nothing, and
    // the regex stays case-sensitive, as in Emissary (the decoder warns).
    case .regex: path = .safeRegex(route.prefix)
    }
    let match = Envoy.RouteMatch(
        path: path, caseSensitive: route.caseSensitive,
        runtimeFraction: route.cumulativeWeight < 100 ? (route.cumulativeWeight, runtimeKey(for: route)) : nil,
        headers: route.headers.compactMap(envoyHeaderMatcher),
        queryParameters: route.queryParameters.compactMap(envoyHeaderMatcher))
    return Envoy.Route(
        name: "\(route.mapping.namespace)/\(route.mapping.name)",
        match: match,
        route: route.redirect == nil ? envoyRouteAction(route.settings, cluster: route.cluster) : nil,
        redirect: route.redirect.map(Envoy.RedirectAction.init),
        cors: route.settings.cors.map(Envoy.CORSPolicyConfig.init),
        authorization: !checked
            ? nil
            : route.redirect != nil || route.settings.bypassAuth
                ? .disabled : route.settings.authContextExtensions.map { .context($0) },
        requestHeadersToAdd: route.settings.addRequestHeaders.map(envoyHeaderValueOption),
        requestHeadersToRemove: route.settings.removeRequestHeaders ?? [],
        responseHeadersToAdd: route.settings.addResponseHeaders.map(envoyHeaderValueOption),
        responseHeadersToRemove: route.settings.removeResponseHeaders ?? [])
}

/// The runtime key of a weighted route, unique per route (per Mapping) and independent of its weight, so that the
/// sidecar can step the weight through the runtime layer (`rtds.json`) without touching the route configuration.
func runtimeKey(for route: Route) -> String {
    "attache.weight.\(route.mapping.namespace).\(route.mapping.name)"
}

/// A route's settings as Envoy's RouteAction, sending to `cluster`.
func envoyRouteAction(_ settings: RouteSettings, cluster: String) -> Envoy.RouteAction {
    var action = Envoy.RouteAction(
        cluster: cluster, prefixRewrite: settings.prefixRewrite, hostRewriteLiteral: settings.hostRewrite,
        timeoutMs: settings.timeoutMs ?? AmbassadorDefaults.requestTimeoutMs, idleTimeoutMs: settings.idleTimeoutMs)
    action.regexRewrite = settings.regexRewrite
    // `false` is Envoy's default, and writing it would clash with `host_rewrite_literal` (one oneof).
    action.autoHostRewrite = settings.autoHostRewrite == true ? true : nil
    action.hashPolicy = settings.hashPolicy
    action.retryPolicy = settings.retryPolicy
    action.mirror = settings.mirror
    action.upgrades = settings.upgrades
    return action
}

/// A header to add, as Envoy's HeaderValueOption.
func envoyHeaderValueOption(_ addition: HeaderAddition) -> Envoy.HeaderValueOption {
    Envoy.HeaderValueOption(key: addition.name, value: addition.value, append: addition.append)
}

/// A header matcher in Envoy terms. Host names compare without case; a `hostname` glob becomes a suffix
/// (`*.example.com`) or prefix (`example.*`) match, and `*` needs no matcher at all.
func envoyHeaderMatcher(_ matcher: HeaderMatcher) -> Envoy.HeaderMatcher? {
    let stringMatch: Envoy.StringMatcher
    switch matcher.value {
    case .exact(let value):
        stringMatch = .exact(value, ignoreCase: matcher.name == ":authority")
    case .regex(let regex):
        stringMatch = .regex(regex)
    case .hostGlob(let glob):
        switch HostGlob(glob) {
        case .any: return nil
        case .suffix(let suffix): stringMatch = .suffix(suffix, ignoreCase: true)
        case .prefix(let prefix): stringMatch = .prefix(prefix, ignoreCase: true)
        case .exact(let name): stringMatch = .exact(name, ignoreCase: true)
        }
    }
    return Envoy.HeaderMatcher(name: matcher.name, stringMatch: stringMatch)
}
