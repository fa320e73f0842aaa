import Foundation

/// Why Envoy config could not be read back.
struct EnvoyConfigError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "\(path): \(reason)" }
}

/// Envoy config read back for `diff`: the routing model it describes, and which parts it holds (a routes.json alone
/// says nothing about clusters, and a clusters.json nothing about routes).
struct ReadBackConfig {
    var model: RoutingModel
    var hasRoutes: Bool
    var hasClusters: Bool
}

/// Reads Envoy config that Attaché wrote, so that `diff` can compare it with inputs or with other such config:
/// a `translate --output` directory, a `watch` xDS directory, or one file (a bootstrap, routes.json, clusters.json,
/// or an xDS DiscoveryResponse of routes or clusters). nil when `path` is none of these (then it is an input).
/// Only what Attaché writes is understood; other Envoy config is an error, not a silent "no change".
func readEnvoyConfig(_ path: String) throws(EnvoyConfigError) -> ReadBackConfig? {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
    let directory = path.hasSuffix("/") ? String(path.dropLast()) : path
    if isDirectory.boolValue {
        let has = { (name: String) in FileManager.default.fileExists(atPath: directory + "/" + name) }
        if has(OutputFiles.bootstrap), !has(OutputFiles.routes), has(OutputFiles.clusters) {
            // Listeners and Hosts: a route file per filter chain, all of them in the bootstrap.
            return try readEnvoyConfig(directory + "/" + OutputFiles.bootstrap)
        }
        if has(OutputFiles.bootstrap), has(OutputFiles.routes), has(OutputFiles.clusters) {
            return try readBack(
                routes: try loadJSON(directory + "/" + OutputFiles.routes) as? [String: Any] ?? [:],
                clusters: try loadJSON(directory + "/" + OutputFiles.clusters) as? [[String: Any]] ?? [],
                file: directory + "/" + OutputFiles.routes)
        }
        if !has(XDSFileNames.routes), has(XDSFileNames.listeners), has(XDSFileNames.clusters) {
            let listenersFile = directory + "/" + XDSFileNames.listeners
            let listeners = try resources(of: try loadJSON(listenersFile), listenersFile)
            var config = try readBack(routes: [:], clusters: try xdsClusters(in: directory), file: listenersFile)
            config.model.edge = try readEdge(listeners, file: listenersFile, runtime: xdsRuntime(in: directory)) {
                name throws(EnvoyConfigError) in
                let file = directory + "/" + XDSFileNames.routes(forConfiguration: name)
                return try resources(of: try loadJSON(file), file).first ?? [:]
            }
            return config
        }
        if has(XDSFileNames.routes), has(XDSFileNames.clusters) {
            let routes = try resources(
                of: try loadJSON(directory + "/" + XDSFileNames.routes), directory + "/" + XDSFileNames.routes)
            let clusters = try xdsClusters(in: directory)
            return try readBack(
                routes: routes.first ?? [:], clusters: clusters, file: directory + "/" + XDSFileNames.routes,
                runtime: xdsRuntime(in: directory))
        }
        return nil
    }
    guard path.lowercased().hasSuffix(".json"), let json = try? loadJSON(path) else { return nil }
    if let object = json as? [String: Any] {
        if object["apiVersion"] != nil || object["kind"] != nil { return nil }  // a Kubernetes object in JSON
        if let resources = object["static_resources"] as? [String: Any] {
            let managers = (resources["listeners"] as? [[String: Any]] ?? []).flatMap { listener in
                (listener["filter_chains"] as? [[String: Any]] ?? []).flatMap { chain in
                    (chain["filters"] as? [[String: Any]] ?? []).compactMap { $0["typed_config"] as? [String: Any] }
                }
            }
            let listeners = resources["listeners"] as? [[String: Any]] ?? []
            let chains = listeners.flatMap { $0["filter_chains"] as? [[String: Any]] ?? [] }
            if chains.contains(where: { $0["name"] != nil }) {
                var config = try readBack(
                    routes: [:], clusters: resources["clusters"] as? [[String: Any]] ?? [], file: path)
                config.model.edge = try readEdge(listeners, file: path, routes: nil)
                return config
            }
            guard let routes = managers.lazy.compactMap({ $0["route_config"] as? [String: Any] }).first else {
                throw EnvoyConfigError(path: path, reason: "is a bootstrap without an inline route configuration")
            }
            return try readBack(routes: routes, clusters: resources["clusters"] as? [[String: Any]] ?? [], file: path)
        }
        if object["dynamic_resources"] != nil {
            throw EnvoyConfigError(
                path: path, reason: "reads its listeners and clusters from files: diff the directory they are in")
        }
        if object["virtual_hosts"] != nil {
            var config = try readBack(routes: object, clusters: [], file: path)
            config.hasClusters = false
            return config
        }
        if object["resources"] != nil, object["version_info"] != nil {
            let list = try resources(of: object, path)
            let type = (list.first?["@type"] as? String) ?? ""
            if type == Envoy.routeConfigurationType {
                var config = try readBack(routes: list.first ?? [:], clusters: [], file: path)
                config.hasClusters = false
                return config
            }
            if type == Envoy.clusterType {
                var config = try readBack(routes: [:], clusters: list, file: path)
                config.hasRoutes = false
                return config
            }
            throw EnvoyConfigError(
                path: path,
                reason: "is a DiscoveryResponse of \(type.isEmpty ? "nothing" : type); diff reads routes and clusters")
        }
        throw EnvoyConfigError(
            path: path, reason: "is JSON but neither Kubernetes objects nor Envoy config Attaché writes")
    }
    if let list = json as? [[String: Any]], !list.isEmpty,
        list.allSatisfy({ $0["connect_timeout"] != nil && $0["name"] != nil })
    {
        var config = try readBack(routes: [:], clusters: list, file: path)
        config.hasRoutes = false
        return config
    }
    return nil
}

/// The weights layer of a `watch` directory (rtds.json), by runtime key; empty when there is none.
private func xdsRuntime(in directory: String) -> [String: Int] {
    let file = directory + "/" + XDSFileNames.runtime
    guard let json = try? loadJSON(file),
        let layer = (try? resources(of: json, file))?.first?["layer"] as? [String: Any]
    else { return [:] }
    return layer.compactMapValues { $0 as? Int }
}

/// The clusters of a `watch` directory, each EDS cluster with its members from `endpoints/<cluster>.json`.
private func xdsClusters(in directory: String) throws(EnvoyConfigError) -> [[String: Any]] {
    var clusters = try resources(
        of: try loadJSON(directory + "/" + XDSFileNames.clusters), directory + "/" + XDSFileNames.clusters)
    for index in clusters.indices where clusters[index]["load_assignment"] == nil {
        guard let name = clusters[index]["name"] as? String else { continue }
        let file = directory + "/" + endpointFileName(forCluster: name)
        if let assignment = try? resources(of: try loadJSON(file), file).first {
            clusters[index]["load_assignment"] = assignment
        }
    }
    return clusters
}

/// The edge of Envoy listeners as Attaché writes them for Listeners and Hosts: each chain's server names and
/// virtual hosts with their routes (inline, or read by `routes` from the chain's RDS name).
private func readEdge(
    _ listeners: [[String: Any]], file: String, runtime: [String: Int] = [:],
    routes: ((String) throws(EnvoyConfigError) -> [String: Any])?
) throws(EnvoyConfigError) -> EdgeModel {
    var edge = EdgeModel()
    var routeIndex = 0
    for listener in listeners {
        let address = (listener["address"] as? [String: Any])?["socket_address"] as? [String: Any]
        var chains: [EdgeFilterChain] = []
        for chain in listener["filter_chains"] as? [[String: Any]] ?? [] {
            let manager = (chain["filters"] as? [[String: Any]])?.first?["typed_config"] as? [String: Any] ?? [:]
            var configuration = manager["route_config"] as? [String: Any] ?? [:]
            if let rds = manager["rds"] as? [String: Any], let name = rds["route_config_name"] as? String,
                let routes
            {
                configuration = try routes(name)
            }
            var hosts: [EdgeVirtualHost] = []
            for host in configuration["virtual_hosts"] as? [[String: Any]] ?? [] {
                var list: [Route] = []
                for json in host["routes"] as? [[String: Any]] ?? [] {
                    guard let route = readRoute(json, file: file, index: routeIndex, runtime: runtime) else {
                        throw EnvoyConfigError(path: file, reason: "route \(routeIndex + 1) is not one Attaché writes")
                    }
                    routeIndex += 1
                    list.append(route)
                }
                hosts.append(
                    EdgeVirtualHost(
                        name: host["name"] as? String ?? "", hostname: (host["domains"] as? [String])?.first ?? "*",
                        routes: list))
            }
            var tls: DownstreamTLS?
            if chain["transport_socket"] != nil {
                let match = chain["filter_chain_match"] as? [String: Any] ?? [:]
                tls = DownstreamTLS(
                    serverNames: match["server_names"] as? [String] ?? [], certificate: "", clientCA: nil,
                    settings: TLSSettings())
            }
            chains.append(EdgeFilterChain(name: chain["name"] as? String ?? "", tls: tls, virtualHosts: hosts))
        }
        let manager =
            ((listener["filter_chains"] as? [[String: Any]])?.first?["filters"] as? [[String: Any]])?.first?[
                "typed_config"] as? [String: Any] ?? [:]
        edge.listeners.append(
            EdgeListener(
                name: listener["name"] as? String ?? "", port: address?["port_value"] as? Int ?? 0,
                proxyProtocol: false, securityModel: .xfp, l7Depth: manager["xff_num_trusted_hops"] as? Int ?? 0,
                statsPrefix: manager["stat_prefix"] as? String ?? "", chains: chains))
    }
    return edge
}

private func loadJSON(_ path: String) throws(EnvoyConfigError) -> Any {
    guard let data = FileManager.default.contents(atPath: path),
        let value = try? JSONSerialization.jsonObject(with: data)
    else { throw EnvoyConfigError(path: path, reason: "is missing or not JSON") }
    return value
}

/// The `resources` of a DiscoveryResponse.
private func resources(of json: Any, _ path: String) throws(EnvoyConfigError) -> [[String: Any]] {
    guard let object = json as? [String: Any], let list = object["resources"] as? [[String: Any]] else {
        throw EnvoyConfigError(path: path, reason: "is not an xDS DiscoveryResponse")
    }
    return list
}

/// A routing model from a route configuration and a cluster list as Attaché writes them.
private func readBack(
    routes routeConfiguration: [String: Any], clusters clusterList: [[String: Any]], file: String,
    runtime: [String: Int] = [:]
)
    throws(EnvoyConfigError) -> ReadBackConfig
{
    var model = RoutingModel()
    let virtualHosts = routeConfiguration["virtual_hosts"] as? [[String: Any]] ?? []
    var routes: [Route] = []
    for (index, json) in virtualHosts.flatMap({ $0["routes"] as? [[String: Any]] ?? [] }).enumerated() {
        guard let route = readRoute(json, file: file, index: index, runtime: runtime) else {
            throw EnvoyConfigError(path: file, reason: "route \(index + 1) is not one Attaché writes")
        }
        routes.append(route)
    }
    model.groups = canaryGroups(readBack: routes)
    model.clusters = clusterList.compactMap(readCluster)
    return ReadBackConfig(model: model, hasRoutes: true, hasClusters: true)
}

/// Routes read back from Envoy JSON, grouped as Attaché wrote them: a canary group's routes are consecutive and
/// share their match, so that a route's share is its threshold minus its predecessor's, not the threshold itself.
func canaryGroups(readBack routes: [Route]) -> [CanaryGroup] {
    var groups: [CanaryGroup] = []
    for route in routes {
        if let last = groups.last?.routes.last, sameMatch(last, route), last.cumulativeWeight < 100 {
            groups[groups.count - 1].routes.append(route)
        } else {
            groups.append(CanaryGroup(routes: [route], order: .unknown))
        }
    }
    return groups
}

private func sameMatch(_ a: Route, _ b: Route) -> Bool {
    a.pathMatch == b.pathMatch && a.prefix == b.prefix && a.caseSensitive == b.caseSensitive && a.headers == b.headers
        && a.queryParameters == b.queryParameters
}

/// `runtime`: the weights layer of a `watch` directory (rtds.json), which overrides each route's default threshold.
private func readRoute(_ json: [String: Any], file: String, index: Int, runtime: [String: Int] = [:]) -> Route? {
    guard let match = json["match"] as? [String: Any] else { return nil }
    let action = json["route"] as? [String: Any] ?? [:]
    let redirect = (json["redirect"] as? [String: Any]).flatMap(readRedirect)
    guard let cluster = action["cluster"] as? String ?? (redirect != nil ? "" : nil) else { return nil }
    let name = (json["name"] as? String ?? "?/route-\(index + 1)").split(separator: "/", maxSplits: 1).map(String.init)
    var pathMatch = Mapping.PathMatch.prefix
    var prefix = match["prefix"] as? String ?? ""
    if let path = match["path"] as? String {
        pathMatch = .exact
        prefix = path
    }
    // `envoyRoute` writes a regex as written, with `case_sensitive` beside it (Envoy ignores it there): a regex that
    // starts with `(?i)` is the user's own.
    let caseSensitive = match["case_sensitive"] as? Bool ?? true
    if let regex = (match["safe_regex"] as? [String: Any])?["regex"] as? String {
        pathMatch = .regex
        prefix = regex
    }
    let fraction = match["runtime_fraction"] as? [String: Any]
    let threshold =
        (fraction?["runtime_key"] as? String).flatMap { runtime[$0] }
        ?? (fraction?["default_value"] as? [String: Any])?["numerator"] as? Int ?? 100
    func matchers(_ key: String) -> [HeaderMatcher] {
        (match[key] as? [[String: Any]] ?? []).compactMap { entry in
            guard let name = entry["name"] as? String, let string = entry["string_match"] as? [String: Any] else {
                return nil
            }
            if let exact = string["exact"] as? String {
                return HeaderMatcher(name: name, value: name == ":authority" ? .hostGlob(exact) : .exact(exact))
            }
            if let regex = (string["safe_regex"] as? [String: Any])?["regex"] as? String {
                return HeaderMatcher(name: name, value: .regex(regex))
            }
            if let suffix = string["suffix"] as? String {
                return HeaderMatcher(name: name, value: .hostGlob(HostGlob.suffix(suffix).text))
            }
            if let prefix = string["prefix"] as? String {
                return HeaderMatcher(name: name, value: .hostGlob(HostGlob.prefix(prefix).text))
            }
            return nil
        }
    }
    func additions(_ key: String) -> [HeaderAddition] {
        (json[key] as? [[String: Any]] ?? []).compactMap { entry in
            guard let header = entry["header"] as? [String: Any], let key = header["key"] as? String,
                let value = header["value"] as? String
            else { return nil }
            return HeaderAddition(
                name: key, value: value, append: (entry["append_action"] as? String) != "OVERWRITE_IF_EXISTS_OR_ADD")
        }
    }
    var settings = RouteSettings(
        prefixRewrite: action["prefix_rewrite"] as? String, hostRewrite: action["host_rewrite_literal"] as? String,
        timeoutMs: redirect != nil ? nil : milliseconds(action["timeout"]) ?? AmbassadorDefaults.requestTimeoutMs,
        idleTimeoutMs: milliseconds(action["idle_timeout"]),
        addRequestHeaders: additions("request_headers_to_add"),
        addResponseHeaders: additions("response_headers_to_add"),
        removeRequestHeaders: json["request_headers_to_remove"] as? [String] ?? [],
        removeResponseHeaders: json["response_headers_to_remove"] as? [String] ?? [])
    readRouteAction(action, into: &settings)
    let perFilter = json["typed_per_filter_config"] as? [String: Any] ?? [:]
    if let cors = perFilter["envoy.filters.http.cors"] as? [String: Any] { settings.cors = readCORS(cors) }
    if let authorization = perFilter["envoy.filters.http.ext_authz"] as? [String: Any] {
        // A redirect is never checked (it answers first): only a routed route's `disabled` is `bypass_auth`.
        settings.bypassAuth = authorization["disabled"] as? Bool == true && redirect == nil
        settings.authContextExtensions =
            (authorization["check_settings"] as? [String: Any])?["context_extensions"] as? [String: String]
    }
    return Route(
        mapping: ObjectReference(kind: "Mapping", namespace: name.first ?? "?", name: name.count > 1 ? name[1] : "?"),
        location: SourceLocation(file: file, line: 1, column: 1), pathMatch: pathMatch, prefix: prefix,
        caseSensitive: caseSensitive,
        headers: matchers("headers"), queryParameters: matchers("query_parameters"), cumulativeWeight: threshold,
        cluster: cluster, settings: settings, redirect: redirect)
}

/// The settings of a RouteAction beyond its cluster, rewrite and timeouts, as `envoyRouteAction` writes them.
private func readRouteAction(_ action: [String: Any], into settings: inout RouteSettings) {
    if let rewrite = action["regex_rewrite"] as? [String: Any] { settings.regexRewrite = readRegexRewrite(rewrite) }
    settings.autoHostRewrite = action["auto_host_rewrite"] as? Bool
    if let policy = (action["hash_policy"] as? [[String: Any]])?.first {
        if let header = (policy["header"] as? [String: Any])?["header_name"] as? String {
            settings.hashPolicy = .header(header)
        } else if let cookie = policy["cookie"] as? [String: Any], let name = cookie["name"] as? String {
            settings.hashPolicy = .cookie(name: name, path: cookie["path"] as? String, ttl: cookie["ttl"] as? String)
        } else if policy["connection_properties"] != nil {
            settings.hashPolicy = .sourceIP
        }
    }
    if let retry = action["retry_policy"] as? [String: Any], let on = retry["retry_on"] as? String {
        settings.retryPolicy = RetryPolicy(
            retryOn: on, numRetries: retry["num_retries"] as? Int, perTryTimeout: retry["per_try_timeout"] as? String)
    }
    if let mirror = (action["request_mirror_policies"] as? [[String: Any]])?.first,
        let cluster = mirror["cluster"] as? String
    {
        let fraction = (mirror["runtime_fraction"] as? [String: Any])?["default_value"] as? [String: Any]
        settings.mirror = Mirror(cluster: cluster, percent: fraction?["numerator"] as? Int ?? 100)
    }
    if let upgrades = action["upgrade_configs"] as? [[String: Any]] {
        settings.upgrades = upgrades.compactMap { $0["upgrade_type"] as? String }
    }
}

private func readRegexRewrite(_ json: [String: Any]) -> RegexRewrite? {
    guard let pattern = (json["pattern"] as? [String: Any])?["regex"] as? String else { return nil }
    return RegexRewrite(pattern: pattern, substitution: json["substitution"] as? String ?? "")
}

private func readRedirect(_ json: [String: Any]) -> Redirect? {
    if json["https_redirect"] as? Bool == true { return Redirect(host: "", httpsRedirect: true) }
    guard let host = json["host_redirect"] as? String else { return nil }
    let codes = [
        "MOVED_PERMANENTLY": 301, "FOUND": 302, "SEE_OTHER": 303, "TEMPORARY_REDIRECT": 307, "PERMANENT_REDIRECT": 308,
    ]
    return Redirect(
        host: host, path: json["path_redirect"] as? String, prefix: json["prefix_rewrite"] as? String,
        regex: (json["regex_rewrite"] as? [String: Any]).flatMap(readRegexRewrite),
        responseCode: (json["response_code"] as? String).flatMap { codes[$0] })
}

private func readCORS(_ json: [String: Any]) -> CORSPolicy {
    CORSPolicy(
        origins: (json["allow_origin_string_match"] as? [[String: Any]])?.compactMap { $0["exact"] as? String },
        methods: json["allow_methods"] as? String, headers: json["allow_headers"] as? String,
        exposedHeaders: json["expose_headers"] as? String, maxAge: json["max_age"] as? String,
        credentials: json["allow_credentials"] as? Bool)
}

private func readCluster(_ json: [String: Any]) -> UpstreamCluster? {
    guard let name = json["name"] as? String else { return nil }
    let members: [EndpointAddress] =
        ((json["load_assignment"] as? [String: Any])?["endpoints"] as? [[String: Any]] ?? []).flatMap { locality in
            (locality["lb_endpoints"] as? [[String: Any]] ?? []).compactMap { entry -> EndpointAddress? in
                guard
                    let socket =
                        (((entry["endpoint"] as? [String: Any])?["address"] as? [String: Any])?["socket_address"]
                            as? [String: Any]),
                    let address = socket["address"] as? String, let port = socket["port_value"] as? Int
                else { return nil }
                return EndpointAddress(address: address, port: port)
            }
        }
    let discovery: ClusterDiscovery
    let parts = name.split(separator: "/")
    if parts.count == 4, parts[0] == "k8s", let port = Int(parts[3].prefix(while: { $0.isNumber })) {
        discovery = .endpoints(namespace: String(parts[1]), service: String(parts[2]), port: port)
    } else if let first = members.first {
        discovery = .dns(host: first.address, port: first.port)
    } else {
        return nil
    }
    let isEndpoints: Bool
    if case .endpoints = discovery { isEndpoints = true } else { isEndpoints = false }
    return UpstreamCluster(
        name: name, discovery: discovery, tls: json["transport_socket"] != nil, settings: readUpstreamSettings(json),
        members: isEndpoints ? members.sorted() : [], mappings: [])
}

/// A cluster's TLS from a TLSContext (`common_tls_context`), as `envoyCluster` writes it; nil for plain TLS.
private func readUpstreamTLSContext(_ cluster: [String: Any]) -> UpstreamTLSContext? {
    guard let tls = (cluster["transport_socket"] as? [String: Any])?["typed_config"] as? [String: Any],
        let common = tls["common_tls_context"] as? [String: Any]
    else { return nil }
    var settings = TLSSettings()
    let versions = ["TLSv1_0": "v1.0", "TLSv1_1": "v1.1", "TLSv1_2": "v1.2", "TLSv1_3": "v1.3"]
    if let params = common["tls_params"] as? [String: Any] {
        settings.minTLSVersion = (params["tls_minimum_protocol_version"] as? String).flatMap { versions[$0] }
        settings.maxTLSVersion = (params["tls_maximum_protocol_version"] as? String).flatMap { versions[$0] }
        settings.cipherSuites = params["cipher_suites"] as? [String]
        settings.ecdhCurves = params["ecdh_curves"] as? [String]
    }
    settings.alpnProtocols = (common["alpn_protocols"] as? [String])?.first
    return UpstreamTLSContext(
        clientCertificate: ((common["tls_certificate_sds_secret_configs"] as? [[String: Any]])?.first)?["name"]
            as? String,
        trustedCA: (common["validation_context_sds_secret_config"] as? [String: Any])?["name"] as? String,
        sni: tls["sni"] as? String, settings: settings)
}

/// "3s" / "0.250s" → milliseconds.
private func milliseconds(_ value: Any?) -> Int? {
    (value as? String).flatMap { Envoy.milliseconds(duration: $0) }
}

/// A cluster's settings as Attaché writes them (`envoyCluster`), read back.
private func readUpstreamSettings(_ json: [String: Any]) -> UpstreamSettings {
    var settings = UpstreamSettings()
    settings.tlsContext = readUpstreamTLSContext(json)
    settings.connectTimeoutMs = milliseconds(json["connect_timeout"]) ?? AmbassadorDefaults.connectTimeoutMs
    switch json["dns_lookup_family"] as? String {
    case "AUTO": settings.ipv6 = true
    case "V6_ONLY":
        settings.ipv6 = true
        settings.ipv4 = false
    default: break
    }
    settings.logicalDNS = (json["type"] as? String) == "LOGICAL_DNS"
    settings.lbPolicy = json["lb_policy"] as? String ?? "ROUND_ROBIN"
    settings.respectDNSTTL = json["respect_dns_ttl"] as? Bool ?? false
    settings.http2 = json["typed_extension_protocol_options"] != nil
    let common = json["common_http_protocol_options"] as? [String: Any]
    settings.idleTimeoutMs = milliseconds(common?["idle_timeout"])
    settings.maxConnectionLifetimeMs = milliseconds(common?["max_connection_duration"])
    if let thresholds = (json["circuit_breakers"] as? [String: Any])?["thresholds"] as? [[String: Any]] {
        settings.circuitBreakers = thresholds.map {
            CircuitBreaker(
                priority: ($0["priority"] as? String)?.lowercased(), maxConnections: $0["max_connections"] as? Int,
                maxPendingRequests: $0["max_pending_requests"] as? Int, maxRequests: $0["max_requests"] as? Int,
                maxRetries: $0["max_retries"] as? Int)
        }
    }
    if let keepalive = (json["upstream_connection_options"] as? [String: Any])?["tcp_keepalive"] as? [String: Any] {
        settings.keepalive = TCPKeepalive(
            idleTime: keepalive["keepalive_time"] as? Int, interval: keepalive["keepalive_interval"] as? Int,
            probes: keepalive["keepalive_probes"] as? Int)
    }
    return settings
}
