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
    /// `auto_host_rewrite`: the Host header becomes the upstream's name.
    public var autoHostRewrite: Bool?
    /// `regex_rewrite`: the path rewritten by a regex (instead of `rewrite`). Group-wide in Emissary.
    public var regexRewrite: RegexRewrite?
    /// `allow_upgrade` (and `use_websocket`): protocols a connection may upgrade to. Group-wide in Emissary.
    public var upgrades: [String]?
    /// `retry_policy`. Group-wide in Emissary, else the Module's.
    public var retryPolicy: RetryPolicy?
    /// `cors`. Group-wide in Emissary, else the Module's.
    public var cors: CORSPolicy?
    /// The route's hash policy, from the group's `load_balancer` (ring_hash or maglev).
    public var hashPolicy: HashPolicy?
    /// `shadow`: requests copied to another cluster (the shadow Mapping's), in percent. Resolved only: a route gets
    /// it from its group's shadow Mapping.
    public var mirror: Mirror?
    /// `bypass_auth`: the AuthService does not check this route's requests.
    public var bypassAuth = false
    /// `auth_context_extensions`: sent to the AuthService with each check of this route's requests.
    public var authContextExtensions: [String: String]?

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

/// `regex_rewrite` (and a redirect's `regex_redirect`): an RE2 pattern and its substitution.
public struct RegexRewrite: Sendable, Hashable {
    public var pattern: String
    public var substitution: String
}

/// `retry_policy`, as Envoy's RetryPolicy takes it.
public struct RetryPolicy: Sendable, Hashable {
    public var retryOn: String
    public var numRetries: Int?
    /// A duration as written (`"0.5s"`), checked to be one Envoy reads.
    public var perTryTimeout: String?
}

/// `cors`: Envoy's CORS policy for the route.
public struct CORSPolicy: Sendable, Hashable {
    /// Allowed origins, each matched exactly; nil: not written.
    public var origins: [String]?
    /// Comma-separated lists, as Envoy takes them.
    public var methods: String?
    public var headers: String?
    public var exposedHeaders: String?
    /// Seconds, as written.
    public var maxAge: String?
    public var credentials: Bool?
}

/// `load_balancer`: the cluster's policy and, for ring_hash and maglev, what a request is hashed by.
public struct LoadBalancer: Sendable, Hashable {
    /// `round_robin`, `least_request`, `ring_hash` or `maglev`.
    public var policy: String
    public var hash: HashPolicy?
}

/// What ring_hash and maglev hash a request by.
public enum HashPolicy: Sendable, Hashable {
    case header(String)
    case cookie(name: String, path: String?, ttl: String?)
    case sourceIP
}

/// `host_redirect` with its companions: the route answers with a redirect instead of proxying.
public struct Redirect: Sendable, Hashable {
    /// The host (and port) of the Location, from the Mapping's `service`.
    public var host: String
    public var path: String?
    public var prefix: String?
    public var regex: RegexRewrite?
    /// 301 (Envoy's and Emissary's default), 302, 303, 307 or 308.
    public var responseCode: Int?
    /// The same URL with `https`: what a Host's `requestPolicy.insecure.action: Redirect` answers (then `host` is
    /// empty and the rest nil).
    public var httpsRedirect = false
}

/// A copy of each request (a `percent` of them) sent to `cluster`, whose answer is dropped.
public struct Mirror: Sendable, Hashable {
    public var cluster: String
    public var percent: Int
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
    /// `load_balancer`'s policy.
    public var lbPolicy: String?
    /// `tls`: originate TLS to the upstream, plainly (`true`) or with a TLSContext's certificate, CA and settings.
    public var originateTLS: OriginateTLS?

    /// What a Mapping's `tls` asks for.
    public enum OriginateTLS: Sendable, Hashable {
        /// `tls: true`: TLS as for `service: https://...`.
        case plain
        /// `tls: NAME`: the TLSContext of that name.
        case context(String)
    }

    public init(connectTimeoutMs: Int? = nil) {
        self.connectTimeoutMs = connectTimeoutMs
    }
}

/// How the upstream connection's TLS is set up from a TLSContext. Certificates by SDS name (`<ns>.<secret>`,
/// `<ns>.<secret>.ca`), read from their own files.
public struct UpstreamTLSContext: Sendable, Hashable {
    public var clientCertificate: String?
    public var trustedCA: String?
    /// The server name sent (the context's `sni`, else the service's host name; nil for an IP address).
    public var sni: String?
    public var settings: TLSSettings

    public init(clientCertificate: String?, trustedCA: String?, sni: String?, settings: TLSSettings) {
        self.clientCertificate = clientCertificate
        self.trustedCA = trustedCA
        self.sni = sni
        self.settings = settings
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
    /// Envoy's `lb_policy`: the group's `load_balancer` policy, upper case.
    public var lbPolicy = "ROUND_ROBIN"
    public var ipv4 = true
    public var ipv6 = false
    public var http2 = false
    public var logicalDNS = false
    public var respectDNSTTL = false
    public var idleTimeoutMs: Int?
    public var maxConnectionLifetimeMs: Int?
    public var keepalive: TCPKeepalive?
    public var circuitBreakers: [CircuitBreaker]?
    /// A Mapping's `tls: CONTEXT`: the client certificate, the CA the upstream's certificate must chain to, the
    /// server name and the TLS settings (nil: plain TLS, or none).
    public var tlsContext: UpstreamTLSContext?

    public init() {}

    /// Envoy's `dns_lookup_family`, as Emissary chooses it: IPv4 only unless IPv6 is enabled, then both (or IPv6
    /// only when IPv4 is disabled).
    public var dnsLookupFamily: String { ipv6 ? (ipv4 ? "AUTO" : "V6_ONLY") : "V4_ONLY" }
}
