// Routing model: what Envoy must do, in Attaché's own terms, before any Envoy object exists.
//
// Built from the Ambassador resources by `buildRoutingModel`: Mappings are qualified and given clusters
// (ServiceQualification, ClusterNaming), gathered into canary groups (CanaryGroup), their weights normalised
// (WeightNormalization), and the groups put in Emissary's route order (RouteOrder). Plain data: `explain` and
// `diff` read it directly.

/// The routes in the order Envoy tries them, and the clusters they send traffic to.
public struct RoutingModel: Sendable {
    /// Canary groups, highest route order first. Envoy takes the first route that matches, so order is meaning.
    public var groups: [CanaryGroup] = []
    /// Clusters sorted by name.
    public var clusters: [UpstreamCluster] = []
    /// The largest RE2 program Envoy must accept (the Module's `regex_max_size`).
    public var regexMaxProgramSize = AmbassadorDefaults.regexMaxProgramSize
    /// The listeners, filter chains and virtual hosts, when the input has Listeners or Hosts; nil: one plain
    /// listener with every route on one `*` virtual host.
    public var edge: EdgeModel? = nil
    /// The Module's connection-manager settings, for every listener.
    public var connection = ConnectionSettings()
    /// The certificates and authorities the clusters' `tls: CONTEXT` name, sorted by SDS name.
    public var upstreamCertificates: [CertificateSecret] = []
    /// The AuthService every request is checked by (routes with `bypass_auth` and redirects excepted).
    public var authorization: ExternalAuthorization? = nil

    /// Every route, in Envoy order.
    public var routes: [Route] { groups.flatMap(\.routes) }
    /// Each route's share of its group's traffic, parallel to `routes`.
    public var routeShares: [Int] { groups.flatMap(\.shares) }
    /// `routes.count` without copying every route.
    public var routeCount: Int { groups.reduce(0) { $0 + $1.routes.count } }
}

/// One route: one Mapping's match, its threshold in its group's share of the traffic, and where that traffic goes.
public struct Route: Sendable, Equatable {
    public var mapping: ObjectReference
    public var location: SourceLocation

    public var pathMatch: Mapping.PathMatch
    public var prefix: String
    public var caseSensitive: Bool
    /// Header matchers including `:authority` (host/hostname) and `:method`.
    public var headers: [HeaderMatcher]
    public var queryParameters: [HeaderMatcher]

    /// Envoy draws one random number r in 0..<100 per request; this route takes it when r < threshold (and no
    /// earlier route did). 100 means "always". A route's share of its group is its threshold minus the previous
    /// route's (`CanaryGroup.shares`).
    public var cumulativeWeight: Int

    /// The cluster the route sends to; empty for a redirect.
    public var cluster: String
    /// Resolved: the Module's default timeout and the group's header lists filled in.
    public var settings: RouteSettings
    /// `host_redirect`: the route answers with this redirect instead of proxying.
    public var redirect: Redirect? = nil
}

/// Where a cluster finds its members.
public enum ClusterDiscovery: Sendable, Hashable {
    /// Resolve the service's DNS name (KubernetesServiceResolver): Envoy's STRICT_DNS.
    case dns(host: String, port: Int)
    /// The ready pods of a Service port (KubernetesEndpointResolver). `port` is the Service port, as in
    /// Emissary's endpoint-set name `k8s/<namespace>/<service>/<port>`.
    case endpoints(namespace: String, service: String, port: Int)
}

/// One upstream cluster. Mappings with the same `identity` share it.
public struct UpstreamCluster: Sendable, Equatable {
    public var name: String
    public var discovery: ClusterDiscovery
    public var tls: Bool
    public var settings: UpstreamSettings
    /// For endpoint discovery: the pod addresses, sorted (empty when none are known: Envoy answers 503).
    public var members: [EndpointAddress]
    /// The Mappings that send traffic here, for diagnostics and `explain`.
    public var mappings: [ObjectReference]

    public init(
        name: String, discovery: ClusterDiscovery, tls: Bool, settings: UpstreamSettings, members: [EndpointAddress],
        mappings: [ObjectReference]
    ) {
        self.name = name
        self.discovery = discovery
        self.tls = tls
        self.settings = settings
        self.members = members
        self.mappings = mappings
    }

    public var connectTimeoutMs: Int { settings.connectTimeoutMs }

    /// Everything that makes two clusters different. Two Mappings whose identities are equal share a cluster;
    /// any difference (unlike Emissary, where the first Mapping's settings silently win) makes a new one.
    public struct Identity: Hashable, Sendable {
        public var discovery: ClusterDiscovery
        public var tls: Bool
        public var settings: UpstreamSettings

        public init(discovery: ClusterDiscovery, tls: Bool, settings: UpstreamSettings) {
            self.discovery = discovery
            self.tls = tls
            self.settings = settings
        }

        /// An identity with Ambassador's defaults but for the connect timeout and IPv6.
        public init(discovery: ClusterDiscovery, tls: Bool, connectTimeoutMs: Int, ipv6: Bool) {
            var settings = UpstreamSettings()
            settings.connectTimeoutMs = connectTimeoutMs
            settings.ipv6 = ipv6
            self.init(discovery: discovery, tls: tls, settings: settings)
        }
    }

    public var identity: Identity { Identity(discovery: discovery, tls: tls, settings: settings) }
}
