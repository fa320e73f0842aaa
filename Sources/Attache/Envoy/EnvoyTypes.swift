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
    static let httpConnectionManagerType = typePrefix + "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
    static let routerType = typePrefix + "envoy.extensions.filters.http.router.v3.Router"
    static let upstreamTLSType = typePrefix + "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"

    /// A `google.protobuf.Duration` in its JSON form: "3s", "0.250s".
    static func duration(milliseconds ms: Int) -> JSONValue {
        let seconds = ms / 1000, rest = ms % 1000
        if rest == 0 { return .string("\(seconds)s") }
        let fraction = String(rest)
        return .string("\(seconds).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)s")
    }

    /// `envoy.type.matcher.v3.StringMatcher`.
    public enum StringMatcher: Sendable, Equatable, JSONRepresentable {
        case exact(String, ignoreCase: Bool)
        case prefix(String, ignoreCase: Bool)
        case suffix(String, ignoreCase: Bool)
        case regex(String)

        public var json: JSONValue {
            var o = JSONObject()
            switch self {
            case .exact(let v, let ignoreCase):
                o.set("exact", v)
                o.set("ignore_case", ignoreCase ? true : nil)
            case .prefix(let v, let ignoreCase):
                o.set("prefix", v)
                o.set("ignore_case", ignoreCase ? true : nil)
            case .suffix(let v, let ignoreCase):
                o.set("suffix", v)
                o.set("ignore_case", ignoreCase ? true : nil)
            case .regex(let v):
                o.set("safe_regex", .object([("regex", .string(v))]))
            }
            return o.value
        }
    }

    /// `envoy.config.route.v3.HeaderMatcher` and `QueryParameterMatcher` (same JSON shape for what we use).
    public struct HeaderMatcher: Sendable, Equatable, JSONRepresentable {
        public var name: String
        public var stringMatch: StringMatcher

        public var json: JSONValue {
            .object([("name", .string(name)), ("string_match", stringMatch.json)])
        }
    }

    /// `envoy.config.route.v3.RouteMatch`.
    public struct RouteMatch: Sendable, Equatable, JSONRepresentable {
        public enum Path: Sendable, Equatable {
            case prefix(String), path(String), safeRegex(String)
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

        public var json: JSONValue {
            var o = JSONObject()
            switch path {
            case .prefix(let p): o.set("prefix", p)
            case .path(let p): o.set("path", p)
            case .safeRegex(let r): o.set("safe_regex", .object([("regex", .string(r))]))
            }
            o.set("case_sensitive", caseSensitive ? nil : false)
            if let fraction = runtimeFraction {
                o.set("runtime_fraction", .object([
                    ("default_value", .object([("numerator", .int(fraction.percent)), ("denominator", .string("HUNDRED"))])),
                    ("runtime_key", .string(fraction.runtimeKey)),
                ]))
            }
            o.set("headers", headers)
            o.set("query_parameters", queryParameters)
            return o.value
        }
    }

    /// `envoy.config.route.v3.RouteAction`.
    public struct RouteAction: Sendable, Equatable, JSONRepresentable {
        public var cluster: String
        public var prefixRewrite: String?
        public var hostRewriteLiteral: String?
        public var timeoutMs: Int
        public var idleTimeoutMs: Int?

        public var json: JSONValue {
            var o = JSONObject()
            o.set("cluster", cluster)
            o.set("prefix_rewrite", prefixRewrite)
            o.set("host_rewrite_literal", hostRewriteLiteral)
            o.set("timeout", Envoy.duration(milliseconds: timeoutMs))
            o.set("idle_timeout", idleTimeoutMs.map { Envoy.duration(milliseconds: $0) })
            return o.value
        }
    }

    /// `envoy.config.core.v3.HeaderValueOption`.
    public struct HeaderValueOption: Sendable, Equatable, JSONRepresentable {
        public var key: String
        public var value: String
        public var append: Bool

        public var json: JSONValue {
            .object([
                ("header", .object([("key", .string(key)), ("value", .string(value))])),
                ("append_action", .string(append ? "APPEND_IF_EXISTS_OR_ADD" : "OVERWRITE_IF_EXISTS_OR_ADD")),
            ])
        }
    }

    /// `envoy.config.route.v3.Route`.
    public struct Route: Sendable, Equatable, JSONRepresentable {
        public var name: String
        public var match: RouteMatch
        public var route: RouteAction
        public var requestHeadersToAdd: [HeaderValueOption]
        public var requestHeadersToRemove: [String]
        public var responseHeadersToAdd: [HeaderValueOption]
        public var responseHeadersToRemove: [String]

        public var json: JSONValue {
            var o = JSONObject()
            o.set("name", name)
            o.set("match", match)
            o.set("route", route)
            o.set("request_headers_to_add", requestHeadersToAdd)
            o.set("request_headers_to_remove", strings: requestHeadersToRemove)
            o.set("response_headers_to_add", responseHeadersToAdd)
            o.set("response_headers_to_remove", strings: responseHeadersToRemove)
            return o.value
        }
    }

    /// `envoy.config.route.v3.VirtualHost`.
    public struct VirtualHost: Sendable, Equatable, JSONRepresentable {
        public var name: String
        public var domains: [String]
        public var routes: [Route]

        public var json: JSONValue {
            var o = JSONObject()
            o.set("name", name)
            o.set("domains", .array(domains.map(JSONValue.string)))
            o.set("routes", .array(routes.map(\.json)))
            return o.value
        }
    }

    /// `envoy.config.route.v3.RouteConfiguration`.
    public struct RouteConfiguration: Sendable, Equatable, JSONRepresentable {
        public var name: String
        public var virtualHosts: [VirtualHost]

        public var json: JSONValue {
            var o = JSONObject()
            o.set("name", name)
            o.set("virtual_hosts", .array(virtualHosts.map(\.json)))
            return o.value
        }
    }

    /// `envoy.config.core.v3.SocketAddress` inside an `Address`.
    public struct SocketAddress: Sendable, Equatable, JSONRepresentable {
        public var address: String
        public var port: Int

        public var json: JSONValue {
            .object([("socket_address", .object([("address", .string(address)), ("port_value", .int(port))]))])
        }
    }

    /// `envoy.config.endpoint.v3.ClusterLoadAssignment` with one locality.
    public struct ClusterLoadAssignment: Sendable, Equatable, JSONRepresentable {
        public var clusterName: String
        public var endpoints: [SocketAddress]

        public var json: JSONValue {
            let lbEndpoints = endpoints.map { JSONValue.object([("endpoint", .object([("address", $0.json)]))]) }
            var o = JSONObject()
            o.set("cluster_name", clusterName)
            o.set("endpoints", .array(lbEndpoints.isEmpty ? [] : [.object([("lb_endpoints", .array(lbEndpoints))])]))
            return o.value
        }
    }

    /// `envoy.config.cluster.v3.Cluster`.
    public struct Cluster: Sendable, Equatable, JSONRepresentable {
        public enum DiscoveryType: String, Sendable { case STATIC, STRICT_DNS, EDS }
        public var name: String
        public var type: DiscoveryType
        public var connectTimeoutMs: Int
        public var dnsLookupFamily: String?
        /// Inline members (STATIC, STRICT_DNS); nil for EDS.
        public var loadAssignment: ClusterLoadAssignment?
        /// For EDS: the file Envoy reads this cluster's ClusterLoadAssignment from.
        public var edsPath: String?
        public var upstreamTLS: Bool

        public var json: JSONValue {
            var o = JSONObject()
            o.set("name", name)
            o.set("type", type.rawValue)
            o.set("connect_timeout", Envoy.duration(milliseconds: connectTimeoutMs))
            o.set("lb_policy", "ROUND_ROBIN")
            o.set("dns_lookup_family", dnsLookupFamily)
            if let edsPath {
                o.set("eds_cluster_config", .object([
                    ("eds_config", .object([
                        ("path_config_source", .object([("path", .string(edsPath))])),
                        ("resource_api_version", .string("V3")),
                    ])),
                    ("service_name", .string(name)),
                ]))
            }
            o.set("load_assignment", loadAssignment)
            if upstreamTLS {
                o.set("transport_socket", .object([
                    ("name", .string("envoy.transport_sockets.tls")),
                    ("typed_config", .object([("@type", .string(Envoy.upstreamTLSType))])),
                ]))
            }
            return o.value
        }
    }

    /// `envoy.service.discovery.v3.DiscoveryResponse` as Envoy's file-based subscriptions read it.
    public struct DiscoveryResponse: Sendable, Equatable, JSONRepresentable {
        public var typeURL: String
        public var resources: [JSONValue]

        /// A hash of the content, so the same resources always carry the same version.
        public var versionInfo: String { stableHash(JSONWriter.string(.array(resources))) }

        public var json: JSONValue {
            .object([
                ("version_info", .string(versionInfo)),
                ("resources", .array(resources.map { resource in
                    guard case .object(let pairs) = resource else { return resource }
                    return .object([("@type", .string(typeURL))] + pairs)
                })),
            ])
        }
    }

    /// `envoy.config.listener.v3.Listener` with one HTTP connection manager.
    public struct Listener: Sendable, Equatable, JSONRepresentable {
        public var name: String
        public var address: SocketAddress
        public var routeConfiguration: RouteConfiguration

        public var json: JSONValue {
            let manager: JSONValue = .object([
                ("@type", .string(Envoy.httpConnectionManagerType)),
                ("stat_prefix", .string("ingress_http")),
                ("route_config", routeConfiguration.json),
                ("http_filters", .array([
                    .object([("name", .string("envoy.filters.http.router")), ("typed_config", .object([("@type", .string(Envoy.routerType))]))]),
                ])),
            ])
            return .object([
                ("name", .string(name)),
                ("address", address.json),
                ("filter_chains", .array([.object([("filters", .array([
                    .object([("name", .string("envoy.filters.network.http_connection_manager")), ("typed_config", manager)]),
                ]))])])),
            ])
        }
    }

    /// `envoy.config.bootstrap.v3.Bootstrap` with static resources.
    public struct Bootstrap: Sendable, Equatable, JSONRepresentable {
        public var nodeID: String
        public var listeners: [Listener]
        public var clusters: [Cluster]
        public var admin: SocketAddress

        public var json: JSONValue {
            .object([
                ("node", .object([("id", .string(nodeID)), ("cluster", .string(nodeID))])),
                ("static_resources", .object([
                    ("listeners", .array(listeners.map(\.json))),
                    ("clusters", .array(clusters.map(\.json))),
                ])),
                ("admin", .object([("address", admin.json)])),
            ])
        }
    }
}
