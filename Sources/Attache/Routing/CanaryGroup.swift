/// Mappings that Emissary treats as one canary group: the same prefix, header matchers (with `:authority` and
/// `:method`), query parameters and precedence. `rewrite`, `service`, `weight` and `case_sensitive` are not part of
/// the key, so they may differ inside a group; `prefix_regex`, `prefix_exact`, the header matchers themselves and
/// `connect_timeout_ms` may not (`admitToGroup`).
public struct CanaryGroup: Sendable, Equatable {
    /// Routes in weight order: weighted Mappings first, then unweighted ones (SEMANTICS.md §3).
    public var routes: [Route]
    /// The group's place in the route table (higher first).
    public var order: RouteOrderKey

    /// Each route's share of the group's traffic: its threshold minus the highest threshold before it.
    public var shares: [Int] {
        var previous = 0
        return routes.map { route in
            defer { previous = max(previous, route.cumulativeWeight) }
            return max(0, route.cumulativeWeight - previous)
        }
    }
}

/// The routes of one canary group: its live Mappings (in processing order), the name of each one's cluster and
/// its service as `host:port` (for `add_linkerd_headers`), and the group's shadow as a mirror. `checked`: an
/// AuthService checks requests (only then do `bypass_auth` and `auth_context_extensions` mean anything).
func buildRoutes(
    _ mappings: [Mapping], clusters: [String], serviceHostPorts: [String], mirror: Mirror?, module: AmbassadorModule,
    checked: Bool = false, log: inout DiagnosticLog
) -> [Route] {
    let weights = normalizedWeights(mappings.map(\.weight))
    if mappings.count > 1, let last = weights.cumulative.last, last < 100 {
        log.warning(
            .groupWeightsBelow100,
            "the weights of the \(mappings.count) Mappings on prefix \(mappings[0].match.prefix) add up to \(last); the other \(100 - last)% of requests fall through to the next matching route",
            at: mappings[0].weightLocation ?? mappings[0].location, object: mappings[0].reference)
    }
    // Emissary merges the header additions of a group (a Mapping's `add_linkerd_headers` adds its own), and takes
    // the rest of the group-wide settings from its Mappings in order, a later one's replacing an earlier one's
    // (`IRHTTPMappingGroup.finalize`); route-level settings (rewrite, timeouts, host_rewrite, ...) stay per Mapping.
    let linkerd = zip(mappings, serviceHostPorts).map { mapping, hostPort -> [HeaderAddition] in
        guard mapping.role.addLinkerdHeaders ?? module.addLinkerdHeaders else { return [] }
        // Emissary's `hostname_port`: the port is always there (the scheme's default when not written).
        let port = mapping.upstream.service.port == nil ? ":\(mapping.upstream.service.defaultPort)" : ""
        return [HeaderAddition(name: "l5d-dst-override", value: hostPort + port, append: true)]
    }
    let addRequest = mergedAdditions(
        [module.defaultAddRequestHeaders] + zip(mappings, linkerd).map { $0.route.addRequestHeaders + $1 })
    let addResponse = mergedAdditions([module.defaultAddResponseHeaders] + mappings.map(\.route.addResponseHeaders))
    let lastMapping = mappings[mappings.count - 1]
    /// The group's value of a setting: the last Mapping's that writes it.
    func groupValue<T>(_ value: (Mapping) -> T?) -> T? { mappings.lazy.compactMap(value).last }
    // A Mapping that does not set case_sensitive takes the group's: the last Mapping's that sets it (Emissary
    // flattens the group's Mappings into the group, in order, and its routes fall back to the group's value).
    let groupCaseSensitive = groupValue(\.match.caseSensitive) ?? true
    // How the path is matched is the group's, which is its first Mapping's: a Mapping that does not write
    // prefix_regex or prefix_exact joins the group's kind of match (one that writes another value is refused by
    // `admitToGroup`).
    let groupPathMatch = mappings[0].match.pathMatch
    var groupSettings = RouteSettings()
    groupSettings.addRequestHeaders = addRequest
    groupSettings.addResponseHeaders = addResponse
    groupSettings.removeRequestHeaders =
        lastMapping.route.removeRequestHeaders ?? module.defaultRemoveRequestHeaders ?? []
    groupSettings.removeResponseHeaders =
        lastMapping.route.removeResponseHeaders ?? module.defaultRemoveResponseHeaders ?? []
    // Every Mapping carries `regex_rewrite` in Emissary (empty when not written), so the last one decides.
    groupSettings.regexRewrite = lastMapping.route.regexRewrite
    groupSettings.upgrades = groupValue(\.route.upgrades)
    groupSettings.retryPolicy = groupValue(\.route.retryPolicy) ?? module.retryPolicy
    groupSettings.cors = groupValue(\.route.cors) ?? module.cors
    groupSettings.hashPolicy = (groupValue(\.role.loadBalancer) ?? module.loadBalancer)?.hash
    groupSettings.mirror = mirror

    var routes: [Route] = []
    routes.reserveCapacity(mappings.count)
    for (position, memberIndex) in weights.order.enumerated() {
        let mapping = mappings[memberIndex]
        var settings = groupSettings
        settings.prefixRewrite = groupSettings.regexRewrite == nil ? mapping.route.prefixRewrite : nil
        settings.hostRewrite = mapping.route.hostRewrite
        if checked {
            settings.bypassAuth = mapping.route.bypassAuth
            settings.authContextExtensions = mapping.route.authContextExtensions
        }
        settings.autoHostRewrite = mapping.route.autoHostRewrite
        settings.timeoutMs =
            mapping.route.timeoutMs ?? module.clusterRequestTimeoutMs ?? AmbassadorDefaults.requestTimeoutMs
        settings.idleTimeoutMs = mapping.route.idleTimeoutMs
        routes.append(
            Route(
                mapping: mapping.reference, location: mapping.location,
                pathMatch: groupPathMatch, prefix: mapping.match.prefix,
                caseSensitive: mapping.match.caseSensitive ?? groupCaseSensitive,
                headers: mapping.match.headers, queryParameters: mapping.match.queryParameters,
                cumulativeWeight: weights.cumulative[position], cluster: clusters[memberIndex], settings: settings))
    }
    return routes
}

/// The one route of a redirect group (`host_redirect`), as Emissary builds it from a group that has no live
/// Mappings: the group's path and header matchers (its core fields), the redirect to `host` (the Mapping's
/// service), and nothing the group would have taken from live Mappings: no query-parameter matchers (the Mapping's
/// are ignored, a warning says so when it has any) and no headers added or removed.
func redirectRoute(_ mapping: Mapping, host: String, module: AmbassadorModule) -> Route {
    var redirect = mapping.role.redirect ?? Redirect(host: host)
    redirect.host = host
    return Route(
        mapping: mapping.reference, location: mapping.location, pathMatch: mapping.match.pathMatch,
        prefix: mapping.match.prefix, caseSensitive: mapping.match.caseSensitive ?? true,
        headers: mapping.match.headers, queryParameters: [], cumulativeWeight: 100,
        cluster: "", settings: RouteSettings(prefixRewrite: nil), redirect: redirect)
}

/// What a canary group admits of its Mappings (indices into them): the live ones, at most one shadow, and at most
/// one redirect, which then stands alone.
struct GroupAdmission: Sendable {
    var live: [Int] = []
    var shadow: Int?
    var redirect: Int?
}

/// Checks a canary group's Mappings against each other and says which may stay, and as what.
///
/// As Emissary's `IRHTTPMappingGroup.add_mapping`: a Mapping that writes one of the group's core fields
/// (`prefix_regex`, `prefix_exact`, `connect_timeout_ms`, the cluster limits, `load_balancer`, ...) differently from
/// the group's first Mapping, or writes one the first leaves out, is refused, and so is one whose header matchers
/// differ from the first's (possible only when their group texts collide). The first shadow is the group's mirror
/// and a second is refused; a redirect is refused after live Mappings or another redirect, and a live Mapping after
/// a redirect. A weight that would push the live weights above 100 is rejected too (Emissary would emit broken
/// thresholds); the rest of the group still routes.
func admitToGroup(_ mappings: [Mapping], module: AmbassadorModule, log: inout DiagnosticLog) -> GroupAdmission {
    var admission = GroupAdmission()
    guard let first = mappings.first else { return admission }
    var weightSum = 0
    func refuse(_ mapping: Mapping, _ message: String) {
        log.error(.groupSettingConflict, message, at: mapping.location, object: mapping.reference)
    }
    for (index, mapping) in mappings.enumerated() {
        if index > 0, let conflict = coreFieldConflict(mapping, first: first, module: module) {
            refuse(
                mapping,
                "Mapping shares prefix \(mapping.match.prefix) and matchers with \(first.reference) but \(conflict); Emissary refuses such a Mapping from the canary group, and so does Attaché (write the same value in every Mapping of the group)"
            )
            continue
        }
        if mapping.role.shadow {
            if let shadow = admission.shadow {
                refuse(
                    mapping,
                    "a canary group mirrors to one shadow, and \(mappings[shadow].reference) is already its shadow; this one is refused, as in Emissary"
                )
            } else {
                admission.shadow = index
            }
            continue
        }
        if mapping.role.redirect != nil {
            if let redirect = admission.redirect {
                refuse(
                    mapping,
                    "\(mappings[redirect].reference) already redirects this prefix and matchers; this redirect is refused, as in Emissary"
                )
            } else if let live = admission.live.first {
                refuse(
                    mapping,
                    "a redirect cannot join \(mappings[live].reference), which proxies the same prefix and matchers; refused, as in Emissary"
                )
            } else {
                admission.redirect = index
            }
            continue
        }
        if let redirect = admission.redirect {
            refuse(
                mapping,
                "\(mappings[redirect].reference) redirects this prefix and matchers, so this Mapping cannot proxy them; refused, as in Emissary"
            )
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
        admission.live.append(index)
    }
    return admission
}

/// What makes `mapping` differ from its group's `first` Mapping in a field Emissary requires to be the same, in words;
/// nil when nothing does. Only fields `mapping` writes count (Emissary checks the keys the new Mapping has), except
/// `circuit_breakers`, which Emissary fills in from the Module before it compares (so every Mapping has it).
func coreFieldConflict(_ mapping: Mapping, first: Mapping, module: AmbassadorModule) -> String? {
    let (mine, theirs) = (mapping.coreFields, first.coreFields)
    /// The conflict in `field` (at `path`) when this Mapping writes it differently; the value is quoted when short.
    func conflict<T: Equatable>(_ field: String, _ path: KeyPath<Mapping.GroupCoreFields, T?>, quoted: Bool = true)
        -> String?
    {
        guard let value = mine[keyPath: path], value != theirs[keyPath: path] else { return nil }
        guard quoted else { return "writes a different `\(field)`" }
        return "writes `\(field): \(value)` where it writes \(theirs[keyPath: path].map { "\($0)" } ?? "nothing")"
    }
    if let found = conflict("prefix_regex", \.prefixRegex) ?? conflict("prefix_exact", \.prefixExact)
        ?? conflict("connect_timeout_ms", \.connectTimeoutMs) ?? conflict("cluster_idle_timeout_ms", \.idleTimeoutMs)
        ?? conflict("cluster_max_connection_lifetime_ms", \.maxConnectionLifetimeMs)
        ?? conflict("keepalive", \.keepalive, quoted: false) ?? conflict("load_balancer", \.loadBalancer, quoted: false)
    {
        return found
    }
    if (mine.circuitBreakers ?? module.circuitBreakers) != (theirs.circuitBreakers ?? module.circuitBreakers) {
        return "has different `circuit_breakers`"
    }
    for (key, value) in mine.ignored.sorted(by: { $0.key < $1.key }) where theirs.ignored[key] != value {
        return "writes a different `\(key)`"
    }
    let sameMatchers =
        mapping.match.headers.count == first.match.headers.count
        && zip(mapping.match.headers, first.match.headers).allSatisfy {
            $0.name == $1.name && $0.valueText == $1.valueText && $0.isRegex == $1.isRegex
        }
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
