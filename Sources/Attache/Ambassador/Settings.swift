/// What one Mapping asks of its route beyond the match and the weight: path and Host rewrites, timeouts, headers
/// added and removed. A Mapping carries the values as written; its route carries them resolved (the Module's
/// defaults and the canary group's merged headers filled in), and the Envoy route builder writes them.
///
/// A new route-level field is one property here, decoded in MappingDecoder, written by `envoyRoute`, and one line
/// of `described` (Review/SettingsDescription.swift), through which `diff` and `explain` list it.
public struct RouteSettings: Sendable, Hashable {
    /// Replacement for the matched prefix (the whole path for regex and exact matches); nil leaves the path alone.
    public var prefixRewrite: String?
    public var hostRewrite: String?
    public var timeoutMs: Int?
    public var idleTimeoutMs: Int?
    public var addRequestHeaders: [HeaderAddition] = []
    public var addResponseHeaders: [HeaderAddition] = []
    /// nil: not written (a route then takes its group's, else the Module's defaults).
    public var removeRequestHeaders: [String]?
    public var removeResponseHeaders: [String]?

    public init(
        prefixRewrite: String? = "/", hostRewrite: String? = nil, timeoutMs: Int? = nil, idleTimeoutMs: Int? = nil,
        addRequestHeaders: [HeaderAddition] = [], addResponseHeaders: [HeaderAddition] = [],
        removeRequestHeaders: [String]? = nil, removeResponseHeaders: [String]? = nil
    ) {
        self.prefixRewrite = prefixRewrite
        self.hostRewrite = hostRewrite
        self.timeoutMs = timeoutMs
        self.idleTimeoutMs = idleTimeoutMs
        self.addRequestHeaders = addRequestHeaders
        self.addResponseHeaders = addResponseHeaders
        self.removeRequestHeaders = removeRequestHeaders
        self.removeResponseHeaders = removeResponseHeaders
    }
}

/// What one Mapping asks of the cluster its traffic goes to, beyond where that is, as written (nil: not written).
/// Resolved against the Module and Ambassador's defaults into `UpstreamSettings`; settings that differ give
/// different clusters (`UpstreamCluster.Identity`), where Emissary lets the first Mapping's win.
public struct ClusterSettings: Sendable, Hashable {
    public var connectTimeoutMs: Int?
    /// `grpc: true`: HTTP/2 to the upstream.
    public var grpc: Bool?
    /// `dns_type: logical_dns` (true) or `strict_dns` (false).
    public var logicalDNS: Bool?
    public var respectDNSTTL: Bool?
    public var enableIPv4: Bool?
    public var enableIPv6: Bool?
    /// `cluster_idle_timeout_ms`, `cluster_max_connection_lifetime_ms`.
    public var idleTimeoutMs: Int?
    public var maxConnectionLifetimeMs: Int?
    public var keepalive: TCPKeepalive?
    public var circuitBreakers: [CircuitBreaker]?

    public init(connectTimeoutMs: Int? = nil) {
        self.connectTimeoutMs = connectTimeoutMs
    }
}

/// `keepalive`: TCP keepalive on upstream connections, in seconds and probes.
public struct TCPKeepalive: Sendable, Hashable {
    public var idleTime: Int?
    public var interval: Int?
    public var probes: Int?
}

/// One entry of `circuit_breakers`: limits for requests of one routing priority.
public struct CircuitBreaker: Sendable, Hashable {
    /// `default` or `high` as written; nil when not written (Envoy's DEFAULT). Kept as written because Emissary
    /// compares breakers as written when it admits a Mapping to a canary group.
    public var priority: String?
    public var maxConnections: Int?
    public var maxPendingRequests: Int?
    public var maxRequests: Int?
    public var maxRetries: Int?
}

/// How Envoy talks to an upstream: a Mapping's `ClusterSettings` with the Module's defaults and Ambassador's filled
/// in. Part of a cluster's identity: Mappings whose settings differ get different clusters.
public struct UpstreamSettings: Sendable, Hashable {
    public var connectTimeoutMs = AmbassadorDefaults.connectTimeoutMs
    public var ipv4 = true
    public var ipv6 = false
    public var http2 = false
    public var logicalDNS = false
    public var respectDNSTTL = false
    public var idleTimeoutMs: Int?
    public var maxConnectionLifetimeMs: Int?
    public var keepalive: TCPKeepalive?
    public var circuitBreakers: [CircuitBreaker]?

    public init() {}

    /// Envoy's `dns_lookup_family`, as Emissary chooses it: IPv4 only unless IPv6 is enabled, then both (or IPv6
    /// only when IPv4 is disabled).
    public var dnsLookupFamily: String { ipv6 ? (ipv4 ? "AUTO" : "V6_ONLY") : "V4_ONLY" }
}
