// Envoy resources: typed Envoy v3 messages, named after their protos, each listing its fields in proto order.
// Only the fields Attaché sets are here. The builders (RouteConfigurationBuilder, ClusterBuilder,
// BootstrapBuilder) turn the routing model into these; the JSON writer turns these into bytes.

/// Namespace for Envoy v3 message types.
public enum Envoy {
    static let typePrefix = "type.googleapis.com/"
    static let routeConfigurationType = typePrefix + "envoy.config.route.v3.RouteConfiguration"
    static let clusterType = typePrefix + "envoy.config.cluster.v3.Cluster"
    static let listenerType = typePrefix + "envoy.config.listener.v3.Listener"
    static let clusterLoadAssignmentType = typePrefix + "envoy.config.endpoint.v3.ClusterLoadAssignment"
    static let httpConnectionManagerType =
        typePrefix + "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
    static let routerType = typePrefix + "envoy.extensions.filters.http.router.v3.Router"
    static let upstreamTLSType = typePrefix + "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
    static let httpProtocolOptionsType = typePrefix + "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    static let corsType = typePrefix + "envoy.extensions.filters.http.cors.v3.Cors"
    static let proxyProtocolType = typePrefix + "envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol"
    static let tlsInspectorType = typePrefix + "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"
    static let downstreamTLSType = typePrefix + "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
    static let extAuthzType = typePrefix + "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz"
    static let extAuthzPerRouteType = typePrefix + "envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute"
    static let runtimeType = typePrefix + "envoy.service.runtime.v3.Runtime"
    static let fileAccessLogType = typePrefix + "envoy.extensions.access_loggers.file.v3.FileAccessLog"
    static let secretType = typePrefix + "envoy.extensions.transport_sockets.tls.v3.Secret"
    static let corsPolicyType = typePrefix + "envoy.extensions.filters.http.cors.v3.CorsPolicy"

    /// The connection manager's stat prefix and the route configuration's name: together they name the RDS stats
    /// the sidecar reads back (`http.ingress_http.rds.attache-routes.version_text`).
    static let connectionManagerStatPrefix = "ingress_http"
    static let routeConfigurationName = "attache-routes"

    /// The bootstrap's `node`: Attaché names the node and its cluster alike.
    static func writeNode(_ id: String, to o: inout JSONWriter) {
        o.field("node") { n in
            n.field("id", id)
            n.field("cluster", id)
        }
    }

    /// A `google.protobuf.Duration` in its JSON form: "3s", "0.250s".
    static func duration(milliseconds: Int) -> String {
        let ms = max(0, milliseconds)  // total for any input: durations read back from files may be anything
        let seconds = ms / 1000, rest = ms % 1000
        if rest == 0 { return "\(seconds)s" }
        let fraction = String(rest)
        return "\(seconds).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)s"
    }

    /// The inverse of `duration(milliseconds:)`: whole milliseconds from "3s" or "0.250s", exactly (no floating
    /// point: timeouts go up to Envoy's maximum, 9223372036 s, where a Double loses the milliseconds). nil for
    /// anything else, including finer fractions than milliseconds.
    static func milliseconds(duration text: String) -> Int? {
        guard text.hasSuffix("s") else { return nil }
        let parts = text.dropLast().split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let seconds = Int(parts[0]), seconds >= 0, parts[0].allSatisfy(\.isNumber)
        else { return nil }
        var fraction = 0
        if parts.count == 2 {
            guard (1...3).contains(parts[1].count), parts[1].allSatisfy(\.isNumber), let digits = Int(parts[1]) else {
                return nil
            }
            fraction = digits * [100, 10, 1][parts[1].count - 1]
        }
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return nil }
        let (total, overflowAgain) = scaled.addingReportingOverflow(fraction)
        return overflowAgain ? nil : total
    }

    /// `envoy.type.matcher.v3.StringMatcher`.
    public enum StringMatcher: Sendable, Equatable, JSONRepresentable {
        case exact(String, ignoreCase: Bool)
        case prefix(String, ignoreCase: Bool)
        case suffix(String, ignoreCase: Bool)
        case regex(String)

        public func write(to json: inout JSONWriter) {
            json.object { o in
                switch self {
                case .exact(let v, let ignoreCase):
                    o.field("exact", v)
                    o.field("ignore_case", ignoreCase ? true : nil)
                case .prefix(let v, let ignoreCase):
                    o.field("prefix", v)
                    o.field("ignore_case", ignoreCase ? true : nil)
                case .suffix(let v, let ignoreCase):
                    o.field("suffix", v)
                    o.field("ignore_case", ignoreCase ? true : nil)
                case .regex(let v):
                    o.field("safe_regex") { $0.field("regex", v) }
                }
            }
        }
    }

    /// `envoy.config.route.v3.HeaderMatcher` and `QueryParameterMatcher` (same JSON shape for what we use).
    public struct HeaderMatcher: Sendable, Equatable, JSONRepresentable {
        public var name: String
        public var stringMatch: StringMatcher

        public func write(to json: inout JSONWriter) {
            json.object { o in
                o.field("name", name)
                o.field("string_match", stringMatch)
            }
        }
    }

    /// `envoy.config.route.v3.RouteMatch`.
    public struct RouteMatch: Sendable, Equatable, JSONRepresentable {
        public enum Path: Sendable, Equatable {
            case prefix(String)
            case path(String)
            case safeRegex(String)
        }
        public var path: Path
        public var caseSensitive: Bool
        /// Percent of requests (0–100) this route takes, with the runtime key that could override it.
        public var runtimeFraction: (percent: Int, runtimeKey: String)?
        public var headers: [HeaderMatcher]
        public var queryParameters: [HeaderMatcher]

        public static func == (a: RouteMatch, b: RouteMatch) -> Bool {
            a.path == b.path && a.caseSensitive == b.caseSensitive && a.headers == b.headers
                && a.queryParameters == b.queryParameters
                && a.runtimeFraction?.percent == b.runtimeFraction?.percent
                && a.runtimeFraction?.runtimeKey == b.runtimeFraction?.runtimeKey
        }

        public func write(to json: inout JSONWriter) {
            json.object { o in
                switch path {
                case .prefix(let p): o.field("prefix", p)
                case .path(let p): o.field("path", p)
                case .safeRegex(let r): o.field("safe_regex") { $0.field("regex", r) }
                }
                o.field("case_sensitive", caseSensitive ? nil : false)
                if let fraction = runtimeFraction {
                    o.field("runtime_fraction") { f in
                        f.field("default_value") { d in
                            d.field("numerator", fraction.percent)
                            d.field("denominator", "HUNDRED")
                        }
                        f.field("runtime_key", fraction.runtimeKey)
                    }
                }
                o.field("headers", array: headers)
                o.field("query_parameters", array: queryParameters)
            }
        }
    }

    /// `envoy.config.route.v3.RouteAction`.
    public struct RouteAction: Sendable, Equatable, JSONRepresentable {
        public var cluster: String
        public var prefixRewrite: String?
        public var hostRewriteLiteral: String?
        public var timeoutMs: Int
        public var idleTimeoutMs: Int?
        public var regexRewrite: RegexRewrite?
        public var autoHostRewrite: Bool?
        public var hashPolicy: HashPolicy?
        public var retryPolicy: RetryPolicy?
        public var mirror: Mirror?
        public var upgrades: [String]?

        public init(
            cluster: String, prefixRewrite: String?, hostRewriteLiteral: String?, timeoutMs: Int, idleTimeoutMs: Int?
        ) {
            self.cluster = cluster
            self.prefixRewrite = prefixRewrite
            self.hostRewriteLiteral = hostRewriteLiteral
            self.timeoutMs = timeoutMs
            self.idleTimeoutMs = idleTimeoutMs
        }

        public func write(to json: inout JSONWriter) {
            json.object { o in
                o.field("cluster", cluster)
                o.field("prefix_rewrite", prefixRewrite)
                o.field("host_rewrite_literal", hostRewriteLiteral)
                o.field("timeout", Envoy.duration(milliseconds: timeoutMs))
                o.field("idle_timeout", idleTimeoutMs.map { Envoy.duration(milliseconds: $0) })
                if let regexRewrite { o.field("regex_rewrite") { Envoy.write(regexRewrite, to: &$0) } }
                o.field("auto_host_rewrite", autoHostRewrite)
                if let hashPolicy {
                    o.key("hash_policy")
                    o.array { list in list.object { Envoy.write(hashPolicy, to: &$0) } }
                }
                if let retryPolicy {
                    o.field("retry_policy") { r in
                        r.field("retry_on", retryPolicy.retryOn)
                        r.field("num_retries", retryPolicy.numRetries)
                        r.field("per_try_timeout", retryPolicy.perTryTimeout)
                    }
                }
                if let mirror {
                    o.key("request_mirror_policies")
                    o.array { list in
                        list.object { m in
                            m.field("cluster", mirror.cluster)
                            m.field("runtime_fraction") { f in
                                f.field("default_value") { d in
                                    d.field("numerator", mirror.percent)
                                    d.field("denominator", "HUNDRED")
                                }
                            }
                        }
                    }
                }
                if let upgrades {
                    o.key("upgrade_configs")
                    o.array { list in
                        for upgrade in upgrades { list.object { $0.field("upgrade_type", upgrade) } }
                    }
                }
            }
        }
    }

    /// `envoy.config.route.v3.RedirectAction`: the route answers with a redirect.
    public struct RedirectAction: Sendable, Equatable, JSONRepresentable {
        public var redirect: Redirect

        public func write(to json: inout JSONWriter) {
            json.object { o in
                if redirect.httpsRedirect {
                    o.field("https_redirect", true)
                    return
                }
                o.field("host_redirect", redirect.host)
                o.field("path_redirect", redirect.path)
                o.field("prefix_rewrite", redirect.prefix)
                if let regex = redirect.regex { o.field("regex_rewrite") { Envoy.write(regex, to: &$0) } }
                let codes = [
                    301: "MOVED_PERMANENTLY", 302: "FOUND", 303: "SEE_OTHER", 307: "TEMPORARY_REDIRECT",
                    308: "PERMANENT_REDIRECT",
                ]
                o.field("response_code", redirect.responseCode.flatMap { codes[$0] })
            }
        }
    }

    /// `envoy.extensions.filters.http.cors.v3.CorsPolicy`, a route's setting for the CORS filter.
    public struct CORSPolicyConfig: Sendable, Equatable, JSONRepresentable {
        public var policy: CORSPolicy

        public func write(to json: inout JSONWriter) {
            json.object { o in
                o.field("@type", Envoy.corsPolicyType)
                if let origins = policy.origins {
                    o.key("allow_origin_string_match")
                    o.array { list in
                        for origin in origins { list.object { $0.field("exact", origin) } }
                    }
                }
                o.field("allow_methods", policy.methods)
                o.field("allow_headers", policy.headers)
                o.field("expose_headers", policy.exposedHeaders)
                o.field("max_age", policy.maxAge)
                o.field("allow_credentials", policy.credentials)
            }
        }
    }

    /// `envoy.type.matcher.v3.RegexMatchAndSubstitute`.
    static func write(_ rewrite: RegexRewrite, to o: inout JSONWriter) {
        o.field("pattern") { $0.field("regex", rewrite.pattern) }
        o.field("substitution", rewrite.substitution)
    }

    /// `envoy.config.route.v3.RouteAction.HashPolicy`.
    static func write(_ policy: HashPolicy, to o: inout JSONWriter) {
        switch policy {
        case .header(let name): o.field("header") { $0.field("header_name", name) }
        case .cookie(let name, let path, let ttl):
            o.field("cookie") { c in
                c.field("name", name)
                c.field("ttl", ttl)
                c.field("path", path)
            }
        case .sourceIP: o.field("connection_properties") { $0.field("source_ip", true) }
        }
    }

    /// `envoy.config.core.v3.HeaderValueOption`.
    public struct HeaderValueOption: Sendable, Equatable, JSONRepresentable {
        public var key: String
        public var value: String
        public var append: Bool

        public func write(to json: inout JSONWriter) {
            json.object { o in
                o.field("header") { h in
                    h.field("key", key)
                    h.field("value", value)
                }
                o.field("append_action", append ? "APPEND_IF_EXISTS_OR_ADD" : "OVERWRITE_IF_EXISTS_OR_ADD")
            }
        }
    }

    /// `envoy.config.route.v3.Route`.
    public struct Route: Sendable, Equatable, JSONRepresentable {
        public var name: String
        public var match: RouteMatch
        /// Where the request goes, or (`redirect`) the redirect that answers it: exactly one is set.
        public var route: RouteAction?
        public var redirect: RedirectAction? = nil
        public var cors: CORSPolicyConfig? = nil
        /// The ext_authz filter's setting for this route (only with an AuthService).
        public var authorization: RouteAuthorization? = nil
        public var requestHeadersToAdd: [HeaderValueOption]
        public var requestHeadersToRemove: [String]
        public var responseHeadersToAdd: [HeaderValueOption]
        public var responseHeadersToRemove: [String]

        public func write(to json: inout JSONWriter) {
            json.object { o in
                o.field("name", name)
                o.field("match", match)
                o.field("route", route)
                o.field("redirect", redirect)
                if cors != nil || authorization != nil {
                    o.field("typed_per_filter_config") { filters in
                        filters.field("envoy.filters.http.cors", cors)
                        filters.field("envoy.filters.http.ext_authz", authorization)
                    }
                }
                o.field("request_headers_to_add", array: requestHeadersToAdd)
                o.field("request_headers_to_remove", strings: requestHeadersToRemove)
                o.field("response_headers_to_add", array: responseHeadersToAdd)
                o.field("response_headers_to_remove", strings: responseHeadersToRemove)
            }
        }
    }

    /// `envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute`: no check for this route, or context sent
    /// with each check.
    public enum RouteAuthorization: Sendable, Equatable, JSONRepresentable {
        case disabled
        case context([String: String])

        public func write(to json: inout JSONWriter) {
            json.object { o in
                o.field("@type", Envoy.extAuthzPerRouteType)
                switch self {
                case .disabled: o.field("disabled", true)
                case .context(let extensions):
                    o.field("check_settings") { settings in
                        settings.field("context_extensions") { map in
                            for key in extensions.keys.sorted(by: codePointLess) { map.field(key, extensions[key]) }
                        }
                    }
                }
            }
        }
    }

    /// `envoy.extensions.filters.http.ext_authz.v3.ExtAuthz`: every request checked by the AuthService's cluster.
    public struct ExtAuthz: Sendable, Equatable, JSONRepresentable {
        public var service: AuthService
        public var cluster: String
        public var uri: String

        public func write(to json: inout JSONWriter) {
            json.object { o in
                o.field("@type", Envoy.extAuthzType)
                let timeout = Envoy.duration(milliseconds: service.timeoutMs)
                func patterns(_ names: [String]) -> (inout JSONWriter) -> Void {
                    { list in
                        list.key("patterns")
                        list.array { items in
                            for name in Set(names).sorted() {
                                items.object { pattern in
                                    pattern.field("exact", name)
                                    pattern.field("ignore_case", true)
                                }
                            }
                        }
                    }
                }
                switch service.proto {
                case .http:
                    o.field("http_service") { http in
                        http.field("server_uri") { server in
                            server.field("uri", uri)
                            server.field("cluster", cluster)
                            server.field("timeout", timeout)
                        }
                        http.field("path_prefix", service.pathPrefix)
                        http.field("authorization_request") { request in
                            request.field(
                                "headers_to_add",
                                array: service.addAuthHeaders.map {
                                    HeaderValue(key: $0.name, value: $0.value)
                                })
                        }
                        let passed = service.allowedAuthorizationHeaders + AuthService.fixedAuthorizationHeaders
                        http.field("authorization_response") { response in
                            response.field("allowed_upstream_headers", object: patterns(passed))
                            response.field("allowed_client_headers", object: patterns(passed))
                        }
                    }
                    o.field(
                        "allowed_headers",
                        object: patterns(service.allowedRequestHeaders + AuthService.fixedRequestHeaders))
                case .grpc:
                    o.field("grpc_service") { grpc in
                        grpc.field("envoy_grpc") { $0.field("cluster_name", cluster) }
                        grpc.field("timeout", timeout)
                    }
                    o.field("transport_api_version", "V3")
                }
                o.field("clear_route_cache", true)
                o.field("include_peer_certificate", true)
                o.field("include_tls_session", true)
                if let body = service.body {
                    o.field("with_request_body") { b in
                        b.field("max_request_bytes", body.maxBytes)
                        b.field("allow_partial_message", body.allowPartial)
                    }
                }
                if service.failureModeAllow { o.field("failure_mode_allow", true) }
                if let code = service.statusOnError { o.field("status_on_error") { $0.field("code", code) } }
            }
        }
    }

    /// `envoy.service.runtime.v3.Runtime`: the canary weights layer, one key per weighted route (its threshold).
    public struct RuntimeLayer: Sendable, Equatable, JSONObjectRepresentable {
        public var weights: [String: Int]

        public func writeFields(to o: inout JSONWriter) {
            o.field("name", LayeredRuntime.weightsLayerName)
            o.field("layer") { layer in
                for key in weights.keys.sorted() { layer.field(key, weights[key]) }
            }
        }
    }

    /// `envoy.config.core.v3.HeaderValue`.
    public struct HeaderValue: Sendable, Equatable, JSONRepresentable {
        public var key: String
        public var value: String

        public func write(to json: inout JSONWriter) {
            json.object { o in
                o.field("key", key)
                o.field("value", value)
            }
        }
    }

    /// `envoy.config.route.v3.VirtualHost`.
    public struct VirtualHost: Sendable, Equatable, JSONRepresentable {
        public var name: String
        public var domains: [String]
        public var routes: [Route]

        public func write(to json: inout JSONWriter) {
            json.object { o in
                o.field("name", name)
                o.field("domains", strings: domains, keepEmpty: true)
                o.field("routes", longArray: routes)
            }
        }
    }

    /// `envoy.config.route.v3.RouteConfiguration`.
    public struct RouteConfiguration: Sendable, Equatable, JSONObjectRepresentable {
        public var name: String
        public var virtualHosts: [VirtualHost]

        public func writeFields(to o: inout JSONWriter) {
            o.field("name", name)
            o.field("virtual_hosts", array: virtualHosts, keepEmpty: true)
        }
    }

    /// `envoy.config.core.v3.SocketAddress` inside an `Address`.
    public struct SocketAddress: Sendable, Equatable, JSONRepresentable {
        public var address: String
        public var port: Int

        public func write(to json: inout JSONWriter) {
            json.object { o in
                o.field("socket_address") { s in
                    s.field("address", address)
                    s.field("port_value", port)
                }
            }
        }
    }

    /// `envoy.config.endpoint.v3.ClusterLoadAssignment` with one locality.
    public struct ClusterLoadAssignment: Sendable, Equatable, JSONObjectRepresentable {
        public var clusterName: String
        public var endpoints: [SocketAddress]

        public func writeFields(to o: inout JSONWriter) {
            o.field("cluster_name", clusterName)
            o.key("endpoints")
            o.array { list in
                guard !endpoints.isEmpty else { return }
                list.object { locality in
                    locality.key("lb_endpoints")
                    locality.array { lb in
                        for endpoint in endpoints {
                            lb.object { e in
                                e.field("endpoint") { $0.field("address", endpoint) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `envoy.config.cluster.v3.Cluster`.
    public struct Cluster: Sendable, Equatable, JSONObjectRepresentable {
        public enum DiscoveryType: String, Sendable { case STATIC, STRICT_DNS, LOGICAL_DNS, EDS }
        public var name: String
        public var type: DiscoveryType
        public var connectTimeoutMs: Int
        public var dnsLookupFamily: String?
        /// Inline members (STATIC, STRICT_DNS); nil for EDS.
        public var loadAssignment: ClusterLoadAssignment?
        /// For EDS: the file Envoy reads this cluster's ClusterLoadAssignment from.
        public var edsPath: String?
        public var upstreamTLS: Bool
        /// The server name sent in the TLS handshake to the upstream (with `upstreamTLS`).
        public var sni: String?
        /// A Mapping's `tls: CONTEXT`: certificate, authority and settings, from SDS files under `secretsDirectory`.
        public var tlsContext: UpstreamTLSContext?
        public var secretsDirectory = ""
        /// `ROUND_ROBIN`, `LEAST_REQUEST`, `RING_HASH` or `MAGLEV`.
        public var lbPolicy = "ROUND_ROBIN"
        /// HTTP/2 to the upstream (`grpc`).
        public var http2 = false
        public var respectDNSTTL = false
        /// `common_http_protocol_options`: idle timeout and longest connection lifetime.
        public var idleTimeoutMs: Int?
        public var maxConnectionDurationMs: Int?
        public var circuitBreakers: [CircuitBreaker]?
        public var keepalive: TCPKeepalive?

        public init(
            name: String, type: DiscoveryType, connectTimeoutMs: Int, dnsLookupFamily: String?,
            loadAssignment: ClusterLoadAssignment?, edsPath: String?, upstreamTLS: Bool
        ) {
            self.name = name
            self.type = type
            self.connectTimeoutMs = connectTimeoutMs
            self.dnsLookupFamily = dnsLookupFamily
            self.loadAssignment = loadAssignment
            self.edsPath = edsPath
            self.upstreamTLS = upstreamTLS
        }

        public func writeFields(to o: inout JSONWriter) {
            o.field("name", name)
            o.field("type", type.rawValue)
            o.field("connect_timeout", Envoy.duration(milliseconds: connectTimeoutMs))
            o.field("lb_policy", lbPolicy)
            o.field("dns_lookup_family", dnsLookupFamily)
            if let edsPath {
                o.field("eds_cluster_config") { eds in
                    eds.field("eds_config") { config in
                        config.field("path_config_source") { $0.field("path", edsPath) }
                        config.field("resource_api_version", "V3")
                    }
                    eds.field("service_name", name)
                }
            }
            o.field("load_assignment", loadAssignment)
            if upstreamTLS {
                o.field("transport_socket") { t in
                    t.field("name", "envoy.transport_sockets.tls")
                    t.field("typed_config") { c in
                        c.field("@type", Envoy.upstreamTLSType)
                        if let context = tlsContext {
                            func sds(_ name: String?) -> (source: FileConfigSource, name: String)? {
                                name.map {
                                    (FileConfigSource(path: secretsDirectory + "/" + secretFileName(for: $0)), $0)
                                }
                            }
                            Envoy.writeCommonTLSContext(
                                to: &c, certificate: sds(context.clientCertificate), authority: sds(context.trustedCA),
                                settings: context.settings)
                        }
                        c.field("sni", sni)
                    }
                }
            }
            if http2 {
                o.field("typed_extension_protocol_options") { options in
                    options.field("envoy.extensions.upstreams.http.v3.HttpProtocolOptions") { http in
                        http.field("@type", Envoy.httpProtocolOptionsType)
                        http.field("explicit_http_config") { $0.field("http2_protocol_options") { _ in } }
                    }
                }
            }
            if respectDNSTTL { o.field("respect_dns_ttl", true) }
            if idleTimeoutMs != nil || maxConnectionDurationMs != nil {
                o.field("common_http_protocol_options") { common in
                    common.field("idle_timeout", idleTimeoutMs.map { Envoy.duration(milliseconds: $0) })
                    common.field(
                        "max_connection_duration", maxConnectionDurationMs.map { Envoy.duration(milliseconds: $0) })
                }
            }
            if let circuitBreakers {
                o.field("circuit_breakers") { breakers in
                    breakers.key("thresholds")
                    breakers.array { list in
                        for breaker in circuitBreakers {
                            list.object { t in
                                t.field("priority", breaker.priority?.uppercased() ?? "DEFAULT")
                                t.field("max_connections", breaker.maxConnections)
                                t.field("max_pending_requests", breaker.maxPendingRequests)
                                t.field("max_requests", breaker.maxRequests)
                                t.field("max_retries", breaker.maxRetries)
                            }
                        }
                    }
                }
            }
            if let keepalive {
                o.field("upstream_connection_options") { options in
                    options.field("tcp_keepalive") { k in
                        k.field("keepalive_probes", keepalive.probes)
                        k.field("keepalive_time", keepalive.idleTime)
                        k.field("keepalive_interval", keepalive.interval)
                    }
                }
            }
        }
    }

    /// The message every file-based xDS file holds.
    static let discoveryResponseMessage = "envoy.service.discovery.v3.DiscoveryResponse"

    /// `envoy.service.discovery.v3.DiscoveryResponse` as Envoy's file-based subscriptions read it, with
    /// `version_info` a hash of the resources: the same content always carries the same version. `compact`: no
    /// line breaks or indentation (the sidecar's files, which only Envoy reads).
    public static func discoveryResponse<Resource: JSONObjectRepresentable>(
        typeURL: String, resources: [Resource], compact: Bool = false
    ) -> [UInt8] {
        let placeholder = "00000000"
        var json = JSONWriter(capacity: 1 << 16, compact: compact)
        json.object { o in
            o.field("version_info", placeholder)
            o.key("resources")
            o.array { list in
                for resource in resources {
                    list.object { r in
                        r.field("@type", typeURL)
                        resource.writeFields(to: &r)
                    }
                }
            }
        }
        var bytes = json.bytes
        bytes.append(UInt8(ascii: "\n"))
        // The version hashes everything after itself, then takes the placeholder's place (same length).
        let versionStart = Array((compact ? "{\"version_info\":\"" : "{\n  \"version_info\": \"").utf8).count
        let version = Array(stableHash(bytes[(versionStart + placeholder.count)...]).utf8)
        bytes.replaceSubrange(versionStart..<(versionStart + placeholder.count), with: version)
        return bytes
    }

    /// A file-based xDS source: `path_config_source`, API v3.
    public struct FileConfigSource: Sendable, Equatable, JSONRepresentable {
        public var path: String

        public func write(to json: inout JSONWriter) {
            json.object { o in
                o.field("path_config_source") { $0.field("path", path) }
                o.field("resource_api_version", "V3")
            }
        }
    }

    /// `envoy.config.listener.v3.Listener`: filter chains, each one HTTP connection manager whose routes are inline
    /// or come from a file (RDS); TLS chains are chosen by server name.
    public struct Listener: Sendable, Equatable, JSONObjectRepresentable {
        public var name: String
        public var address: SocketAddress
        public var chains: [FilterChain]
        /// The PROXY protocol listener filter (a Listener's HTTPPROXY/HTTPSPROXY).
        public var proxyProtocol = false
        /// The Module's `buffer_limit_bytes`.
        public var bufferLimitBytes: Int?

        /// Attaché's default listener: one chain with the route configuration and Envoy's defaults.
        public init(name: String, address: SocketAddress, routes: RouteSpecifier, corsFilter: Bool = false) {
            self.name = name
            self.address = address
            chains = [FilterChain(routes: routes, corsFilter: corsFilter)]
        }

        public init(name: String, address: SocketAddress, chains: [FilterChain], proxyProtocol: Bool) {
            self.name = name
            self.address = address
            self.chains = chains
            self.proxyProtocol = proxyProtocol
        }

        /// Where the connection manager gets its routes (the proto's `route_specifier`).
        public enum RouteSpecifier: Sendable, Equatable {
            /// `route_config`: carried in the listener.
            case inline(RouteConfiguration)
            /// `rds`: the route configuration `name`, read from `source`.
            case rds(FileConfigSource, name: String)

            /// The name of the route configuration.
            public var configurationName: String {
                switch self {
                case .inline(let configuration): return configuration.name
                case .rds(_, let name): return name
                }
            }
        }

        public func writeFields(to o: inout JSONWriter) {
            writeFields(to: &o) { $0.value($1) }
        }

        /// The listener, with each inline route configuration written by `routeConfiguration`.
        func writeFields(to o: inout JSONWriter, routeConfiguration: (inout JSONWriter, RouteConfiguration) -> Void) {
            o.field("name", name)
            o.field("address", address)
            o.field("per_connection_buffer_limit_bytes", bufferLimitBytes)
            let inspectsTLS = chains.contains { $0.tls != nil }
            if proxyProtocol || inspectsTLS {
                // The PROXY protocol header comes before the TLS hello, so its filter goes first.
                o.key("listener_filters")
                o.array { filters in
                    if proxyProtocol {
                        filters.object { f in
                            f.field("name", "envoy.filters.listener.proxy_protocol")
                            f.field("typed_config") { $0.field("@type", Envoy.proxyProtocolType) }
                        }
                    }
                    if inspectsTLS {
                        filters.object { f in
                            f.field("name", "envoy.filters.listener.tls_inspector")
                            f.field("typed_config") { $0.field("@type", Envoy.tlsInspectorType) }
                        }
                    }
                }
            }
            o.key("filter_chains")
            o.array { list in
                for chain in chains {
                    list.object { chain.writeFields(to: &$0, routeConfiguration: routeConfiguration) }
                }
            }
        }
    }

    /// `envoy.config.listener.v3.FilterChain` with one HTTP connection manager, and TLS when `tls` is set.
    public struct FilterChain: Sendable, Equatable {
        /// nil: Attaché's default listener, whose one chain has no name.
        public var name: String?
        public var tls: DownstreamTLSContext?
        public var routes: Listener.RouteSpecifier
        /// The CORS filter before the router: needed when a route has a CORS policy.
        public var corsFilter = false
        public var manager = ConnectionManagerSettings()
        /// The ext_authz filter (after CORS, so that preflight requests are answered without a check).
        public var authorization: ExtAuthz?

        public init(
            name: String? = nil, tls: DownstreamTLSContext? = nil, routes: Listener.RouteSpecifier,
            corsFilter: Bool = false, manager: ConnectionManagerSettings = ConnectionManagerSettings(),
            authorization: ExtAuthz? = nil
        ) {
            self.authorization = authorization
            self.name = name
            self.tls = tls
            self.routes = routes
            self.corsFilter = corsFilter
            self.manager = manager
        }

        func writeFields(to chain: inout JSONWriter, routeConfiguration: (inout JSONWriter, RouteConfiguration) -> Void)
        {
            chain.field("name", name)
            if let tls {
                chain.field("filter_chain_match") { match in
                    match.field("server_names", strings: tls.serverNames)
                    match.field("transport_protocol", "tls")
                }
                chain.field("transport_socket") { socket in
                    socket.field("name", "envoy.transport_sockets.tls")
                    socket.field("typed_config", tls)
                }
            }
            chain.key("filters")
            chain.array { filters in
                filters.object { filter in
                    filter.field("name", "envoy.filters.network.http_connection_manager")
                    filter.field("typed_config") { manager in
                        manager.field("@type", Envoy.httpConnectionManagerType)
                        self.manager.writeFields(to: &manager)
                        switch routes {
                        case .inline(let configuration):
                            manager.key("route_config")
                            routeConfiguration(&manager, configuration)
                        case .rds(let source, let name):
                            manager.field("rds") { rds in
                                rds.field("config_source", source)
                                rds.field("route_config_name", name)
                            }
                        }
                        manager.key("http_filters")
                        manager.array { list in
                            if corsFilter {
                                list.object { cors in
                                    cors.field("name", "envoy.filters.http.cors")
                                    cors.field("typed_config") { $0.field("@type", Envoy.corsType) }
                                }
                            }
                            if let authorization {
                                list.object { filter in
                                    filter.field("name", "envoy.filters.http.ext_authz")
                                    filter.field("typed_config", authorization)
                                }
                            }
                            list.object { router in
                                router.field("name", "envoy.filters.http.router")
                                router.field("typed_config") { $0.field("@type", Envoy.routerType) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The connection manager's settings beyond its routes; nil fields are left to Envoy's defaults.
    public struct ConnectionManagerSettings: Sendable, Equatable {
        public var statPrefix = Envoy.connectionManagerStatPrefix
        public var useRemoteAddress: Bool?
        /// `xff_num_trusted_hops`: a Listener's `l7Depth`.
        public var trustedHops: Int?
        public var normalizePath: Bool?
        public var accessLog: AccessLog?
        /// The Module's settings (`ambassador` Module `config`).
        public var module = ConnectionSettings()

        public init() {}

        /// The fields before the routes, in Emissary's order.
        func writeFields(to manager: inout JSONWriter) {
            manager.field("stat_prefix", statPrefix)
            if let accessLog {
                manager.key("access_log")
                manager.array { list in
                    list.object { log in
                        log.field("name", "envoy.access_loggers.file")
                        log.field("typed_config") { config in
                            config.field("@type", Envoy.fileAccessLogType)
                            config.field("path", accessLog.path)
                            config.field("log_format") { format in
                                switch accessLog.format {
                                case .text(let text):
                                    format.field("text_format_source") { $0.field("inline_string", text + "\n") }
                                case .json(let fields, _):
                                    format.field("json_format") { json in
                                        for field in fields { json.field(field.name, field.value) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            manager.field("use_remote_address", useRemoteAddress)
            manager.field("xff_num_trusted_hops", trustedHops)
            manager.field("normalize_path", normalizePath)
            manager.field("server_name", module.serverName)
            manager.field("max_request_headers_kb", module.maxRequestHeadersKb)
            manager.field("merge_slashes", module.mergeSlashes)
            manager.field("strip_matching_host_port", module.stripMatchingHostPort)
            if module.rejectEscapedSlashes == true {
                manager.field("path_with_escaped_slashes_action", "REJECT_REQUEST")
            }
            manager.field("preserve_external_request_id", module.preserveExternalRequestID)
            if module.idleTimeoutMs != nil || module.headersWithUnderscores != nil {
                manager.field("common_http_protocol_options") { options in
                    options.field("idle_timeout", module.idleTimeoutMs.map { Envoy.duration(milliseconds: $0) })
                    options.field("headers_with_underscores_action", module.headersWithUnderscores)
                }
            }
            if module.acceptHTTP10 != nil || module.properCase == true {
                manager.field("http_protocol_options") { options in
                    options.field("accept_http_10", module.acceptHTTP10)
                    if module.properCase == true {
                        options.field("header_key_format") { format in format.field("proper_case_words") { _ in } }
                    }
                }
            }
        }
    }

    /// `envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`, its certificate (and client CA) from SDS
    /// files, never inline.
    public struct DownstreamTLSContext: Sendable, Equatable, JSONRepresentable {
        /// The chain's `filter_chain_match.server_names` (empty: any).
        public var serverNames: [String]
        public var certificate: FileConfigSource
        public var certificateName: String
        public var clientCA: (source: FileConfigSource, name: String)?
        public var requireClientCertificate: Bool
        public var settings: TLSSettings

        public static func == (a: DownstreamTLSContext, b: DownstreamTLSContext) -> Bool {
            a.serverNames == b.serverNames && a.certificate == b.certificate && a.certificateName == b.certificateName
                && a.clientCA?.source == b.clientCA?.source && a.clientCA?.name == b.clientCA?.name
                && a.requireClientCertificate == b.requireClientCertificate && a.settings == b.settings
        }

        public func write(to json: inout JSONWriter) {
            json.object { o in
                o.field("@type", Envoy.downstreamTLSType)
                Envoy.writeCommonTLSContext(
                    to: &o, certificate: (certificate, certificateName),
                    authority: clientCA.map { ($0.source, $0.name) }, settings: settings)
                if requireClientCertificate { o.field("require_client_certificate", true) }
            }
        }
    }

    /// `common_tls_context`: the certificate and the authority a peer's certificate must chain to, both from SDS
    /// files, and the TLS settings (versions, ciphers, curves, ALPN as written: one element).
    static func writeCommonTLSContext(
        to o: inout JSONWriter, certificate: (source: FileConfigSource, name: String)?,
        authority: (source: FileConfigSource, name: String)?, settings: TLSSettings
    ) {
        o.field("common_tls_context") { common in
            if let certificate {
                common.key("tls_certificate_sds_secret_configs")
                common.array { list in
                    list.object { sds in
                        sds.field("name", certificate.name)
                        sds.field("sds_config", certificate.source)
                    }
                }
            }
            if let authority {
                common.field("validation_context_sds_secret_config") { sds in
                    sds.field("name", authority.name)
                    sds.field("sds_config", authority.source)
                }
            }
            let versions = ["v1.0": "TLSv1_0", "v1.1": "TLSv1_1", "v1.2": "TLSv1_2", "v1.3": "TLSv1_3"]
            if settings.minTLSVersion != nil || settings.maxTLSVersion != nil || settings.cipherSuites != nil
                || settings.ecdhCurves != nil
            {
                common.field("tls_params") { params in
                    params.field("tls_minimum_protocol_version", settings.minTLSVersion.flatMap { versions[$0] })
                    params.field("tls_maximum_protocol_version", settings.maxTLSVersion.flatMap { versions[$0] })
                    params.field("cipher_suites", strings: settings.cipherSuites ?? [])
                    params.field("ecdh_curves", strings: settings.ecdhCurves ?? [])
                }
            }
            if let alpn = settings.alpnProtocols { common.field("alpn_protocols", strings: [alpn]) }
        }
    }

    /// `envoy.extensions.transport_sockets.tls.v3.Secret` for a certificate file read by SDS. Holds secret bytes:
    /// written only into the secret's own file.
    public struct TLSSecretResource: Sendable, Equatable, JSONObjectRepresentable {
        public var secret: CertificateSecret

        public func writeFields(to o: inout JSONWriter) {
            do {
                o.field("name", secret.name)
                let chain = String(decoding: secret.certificateChain, as: UTF8.self)
                if let key = secret.privateKey {
                    o.field("tls_certificate") { c in
                        c.field("certificate_chain") { $0.field("inline_string", chain) }
                        c.field("private_key") { $0.field("inline_string", String(decoding: key, as: UTF8.self)) }
                    }
                } else {
                    o.field("validation_context") { v in
                        v.field("trusted_ca") { $0.field("inline_string", chain) }
                    }
                }
            }
        }
    }

    /// `envoy.config.bootstrap.v3.LayeredRuntime`: Attaché's fixed settings, the sidecar's canary weights from a
    /// file (RTDS), then the admin layer (so that `/runtime_modify` still works, e.g. on a route's
    /// `attache.weight.*` key).
    public struct LayeredRuntime: Sendable, Equatable, JSONRepresentable {
        /// `re2.max_program_size.error_level` and `.warn_level`: Emissary's `regex_max_size`.
        public var regexMaxProgramSize: Int
        /// The sidecar's weights layer: the RTDS resource `weightsLayerName` read from this file.
        public var weights: FileConfigSource? = nil

        /// The name of the runtime layer (and RTDS resource) that carries canary weights.
        public static let weightsLayerName = "attache-weights"

        public func write(to json: inout JSONWriter) {
            json.object { o in
                o.key("layers")
                o.array { layers in
                    layers.object { l in
                        l.field("name", "attache")
                        l.field("static_layer") { s in
                            s.field("re2.max_program_size.error_level", regexMaxProgramSize)
                            s.field("re2.max_program_size.warn_level", regexMaxProgramSize)
                        }
                    }
                    if let weights {
                        layers.object { l in
                            l.field("name", LayeredRuntime.weightsLayerName)
                            l.field("rtds_layer") { rtds in
                                rtds.field("name", LayeredRuntime.weightsLayerName)
                                rtds.field("rtds_config", weights)
                            }
                        }
                    }
                    layers.object { l in
                        l.field("name", "admin")
                        l.field("admin_layer") { _ in }
                    }
                }
            }
        }
    }

    /// `envoy.config.bootstrap.v3.Bootstrap` for the sidecar: listeners and clusters from files (LDS, CDS).
    public struct DynamicBootstrap: Sendable, Equatable, JSONObjectRepresentable {
        public var nodeID: String
        public var listenerSource: FileConfigSource
        public var clusterSource: FileConfigSource
        public var admin: SocketAddress
        public var runtime: LayeredRuntime

        public func writeFields(to o: inout JSONWriter) {
            Envoy.writeNode(nodeID, to: &o)
            o.field("dynamic_resources") { d in
                d.field("lds_config", listenerSource)
                d.field("cds_config", clusterSource)
            }
            o.field("admin") { $0.field("address", admin) }
            o.field("layered_runtime", runtime)
        }
    }

    /// `envoy.config.bootstrap.v3.Bootstrap` with static resources.
    public struct Bootstrap: Sendable, Equatable, JSONRepresentable {
        public var nodeID: String
        public var listeners: [Listener]
        public var clusters: [Cluster]
        public var admin: SocketAddress
        public var runtime: LayeredRuntime

        public func write(to json: inout JSONWriter) {
            write(to: &json, routeConfiguration: { $0.value($1) }, clusters: { $0.value(JSONArray($1)) })
        }

        /// The bootstrap with its two large parts, the listeners' route configuration and the cluster list, written
        /// by the given functions instead of as values. They are most of its bytes, and the same bytes as routes.json
        /// and clusters.json: Output leaves them out here and copies those files in.
        public func write(
            to json: inout JSONWriter, routeConfiguration: (inout JSONWriter, RouteConfiguration) -> Void,
            clusters writeClusters: (inout JSONWriter, [Cluster]) -> Void
        ) {
            json.object { o in
                Envoy.writeNode(nodeID, to: &o)
                o.field("static_resources") { r in
                    r.key("listeners")
                    r.array { list in
                        for listener in listeners {
                            list.object { listener.writeFields(to: &$0, routeConfiguration: routeConfiguration) }
                        }
                    }
                    r.key("clusters")
                    writeClusters(&r, clusters)
                }
                o.field("admin") { $0.field("address", admin) }
                o.field("layered_runtime", runtime)
            }
        }
    }
}
