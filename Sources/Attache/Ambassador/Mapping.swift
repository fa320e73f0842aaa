/// One HTTP Mapping, decoded and checked: everything the routing model needs, nothing Envoy-specific.
///
/// A class with constant fields: the routing stage passes Mappings around by the thousand, and copying a struct
/// of thirty fields each time cost more than using them.
public final class Mapping: Sendable {
    /// How `prefix` matches the path.
    public enum PathMatch: String, Sendable {
        case prefix, regex, exact
    }

    /// How the apiVersion shapes the fields, as Emissary 3.x reads them after its Go half converted the object to
    /// v3alpha1 (pkg/api/getambassador.io/v2/handwritten.conversion.go).
    public enum Dialect: Sendable {
        /// getambassador.io/v1 and v2 (and v0, read as v2), CRD or annotation: converted, so `host` is a DNS glob
        /// (renamed `hostname`) unless `host_regex`, `hostname` does not exist, a `headers` value `true` is the regex
        /// `.*`, and a Mapping without `host` matches every host.
        case v2
        /// A getambassador.io/v3alpha1 resource: stored as v2 and served back, so `host` becomes a glob as in v2,
        /// `hostname` beats it, and `headers` values are strings.
        case v3Resource
        /// A v3alpha1 document in an annotation: read as written; `host` is the deprecated exact match.
        case v3Annotation

        var isV3: Bool { self != .v2 }
    }

    /// The fields Emissary requires to be the same in every Mapping of a canary group (its `CoreMappingKeys`), as
    /// written: a Mapping that differs from the group's first, even by leaving out what the first sets, is refused.
    public struct GroupCoreFields: Sendable, Equatable {
        public var prefixRegex: Bool?
        public var prefixExact: Bool?
        public var connectTimeoutMs: Int?
        public var idleTimeoutMs: Int?
        public var maxConnectionLifetimeMs: Int?
        public var keepalive: TCPKeepalive?
        /// Compared with the Module's default filled in (Emissary fills it in before it compares).
        public var circuitBreakers: [CircuitBreaker]?
        public var loadBalancer: LoadBalancer?
        /// Core fields Attaché otherwise ignores (`bypass_auth`, `bypass_error_response_overrides`, `labels`), as
        /// canonical text: they still decide who may join a group.
        public var ignored: [String: String] = [:]

        public init(
            prefixRegex: Bool?, prefixExact: Bool?, connectTimeoutMs: Int?, idleTimeoutMs: Int? = nil,
            maxConnectionLifetimeMs: Int? = nil, keepalive: TCPKeepalive? = nil,
            circuitBreakers: [CircuitBreaker]? = nil, loadBalancer: LoadBalancer? = nil,
            ignored: [String: String] = [:]
        ) {
            self.loadBalancer = loadBalancer
            self.prefixRegex = prefixRegex
            self.prefixExact = prefixExact
            self.connectTimeoutMs = connectTimeoutMs
            self.idleTimeoutMs = idleTimeoutMs
            self.maxConnectionLifetimeMs = maxConnectionLifetimeMs
            self.keepalive = keepalive
            self.circuitBreakers = circuitBreakers
            self.ignored = ignored
        }
    }

    /// What a Mapping matches: the path, the header and query-parameter matchers (in Emissary's order: `headers`,
    /// `regex_headers`, then the `:authority` condition and `:method`), and its precedence. Together they decide its
    /// canary group and the group's place in the route table.
    public struct Match: Sendable {
        public var prefix: String
        public var pathMatch: PathMatch
        /// `case_sensitive` as written; nil when absent (the route then takes its canary group's value, else true).
        public var caseSensitive: Bool?
        public var headers: [HeaderMatcher]
        public var queryParameters: [HeaderMatcher]
        public var precedence: Int
    }

    /// Where a Mapping sends its traffic, as written.
    public struct Upstream: Sendable {
        /// `service` as written (Argo Rollouts rewrites this text).
        public var text: String
        public var service: ServiceReference
        public var location: SourceLocation
        /// `resolver` as written; nil: the Module's, else `kubernetes-service`.
        public var resolver: String?
        public var resolverLocation: SourceLocation?
    }

    public let reference: ObjectReference
    public let location: SourceLocation
    /// Emissary's processing order key (`name.namespace.N`); see `KubernetesObject.processingKey`.
    public let processingKey: String
    public let dialect: Dialect

    public let match: Match
    public let upstream: Upstream
    /// The canary share as written (0–100); nil when absent.
    public let weight: Int?
    public let weightLocation: SourceLocation?
    public let coreFields: GroupCoreFields
    public let route: RouteSettings
    public let cluster: ClusterSettings
    /// Shadow, redirect, load balancer and Linkerd headers: what the Mapping is to its canary group.
    public let role: MappingRole
    /// The object's labels (`metadata.labels`; `metadata_labels` in an annotation), which a Host's
    /// `mappingSelector` selects by.
    public let labels: [String: String]

    /// The canary group this Mapping joins (see `canaryGroupKey`) and the group's place in the route table,
    /// computed once here: decoding runs in parallel and, in the sidecar, once per changed Mapping, while the
    /// routing stage runs over every Mapping on every change.
    public let groupKey: CanaryGroupKey
    public let routeOrder: RouteOrderKey

    public init(
        reference: ObjectReference, location: SourceLocation, processingKey: String, dialect: Dialect, match: Match,
        upstream: Upstream, weight: Int?, weightLocation: SourceLocation?, coreFields: GroupCoreFields,
        route: RouteSettings, cluster: ClusterSettings, role: MappingRole = MappingRole(),
        labels: [String: String] = [:]
    ) {
        self.labels = labels
        self.reference = reference
        self.location = location
        self.processingKey = processingKey
        self.dialect = dialect
        self.match = match
        self.upstream = upstream
        self.weight = weight
        self.weightLocation = weightLocation
        self.coreFields = coreFields
        self.route = route
        self.cluster = cluster
        self.role = role
        groupKey = CanaryGroupKey(
            canaryGroupKey(
                precedence: match.precedence, prefix: match.prefix, headers: match.headers,
                queryParameters: match.queryParameters))
        routeOrder = RouteOrderKey(
            precedence: match.precedence, prefix: match.prefix, headers: match.headers,
            queryParameters: match.queryParameters)
    }
}

extension Mapping {
    /// A copy with another name, service, weight and extra header matchers: what Argo Rollouts makes of a stable
    /// Mapping. Extra matchers go after the Mapping's own `headers`/`regex_headers`, before `:authority` and
    /// `:method`, where Emissary would put them had they been written in the copy.
    func derived(
        name: String, location: SourceLocation, serviceText: String, service: ServiceReference, weight: Int?,
        extraHeaders: [HeaderMatcher] = []
    ) -> Mapping {
        let pseudo = match.headers.firstIndex { $0.name.hasPrefix(":") } ?? match.headers.endIndex
        var match = self.match
        match.headers = Array(match.headers[..<pseudo]) + extraHeaders + Array(match.headers[pseudo...])
        var upstream = self.upstream
        upstream.text = serviceText
        upstream.service = service
        upstream.location = location
        let reference = ObjectReference(kind: "Mapping", namespace: self.reference.namespace, name: name)
        return Mapping(
            reference: reference, location: location, processingKey: "\(name).\(reference.namespace).1",
            dialect: dialect,
            match: match, upstream: upstream, weight: weight, weightLocation: location, coreFields: coreFields,
            route: route, cluster: cluster, role: role, labels: labels)
    }
}

/// A condition on one request header (or query parameter).
public struct HeaderMatcher: Sendable, Hashable {
    public enum Value: Sendable, Hashable {
        /// The whole value equals the text.
        case exact(String)
        /// The whole value matches the RE2 regex. YAML `true` ("present, any value") is the regex `.*`, as in
        /// Emissary.
        case regex(String)
        /// A DNS glob on `:authority` as written (read through `HostGlob`).
        case hostGlob(String)
    }

    public var name: String
    public var value: Value

    public init(name: String, value: Value) {
        self.name = name
        self.value = value
    }

    public var valueText: String {
        switch value {
        case .exact(let v), .regex(let v), .hostGlob(let v): return v
        }
    }

    public var isRegex: Bool {
        if case .regex = value { return true }
        return false
    }

    /// Emissary's header length for route order: name + value (code points), plus one for a regex.
    public var sortLength: Int {
        name.unicodeScalars.count + valueText.unicodeScalars.count + (isRegex ? 1 : 0)
    }

    /// Emissary's header key for route order: `name-value`.
    public var sortKey: String { "\(name)-\(valueText)" }
}

/// The one reading of a host glob (`hostname`, and `host` in v2): `*` matches every host, `*.example.com` the hosts
/// ending in `.example.com`, `example.*` those starting with `example.`, anything else that one name; host names
/// compare without case. The Envoy matcher, explain, diff's probes and the reader of written config all use it.
public enum HostGlob: Sendable, Equatable {
    case any
    case suffix(String)
    case prefix(String)
    case exact(String)

    public init(_ glob: String) {
        if glob == "*" {
            self = .any
        } else if glob.hasPrefix("*") {
            self = .suffix(String(glob.dropFirst()))
        } else if glob.hasSuffix("*") {
            self = .prefix(String(glob.dropLast()))
        } else {
            self = .exact(glob)
        }
    }

    /// The glob as a Mapping writes it.
    public var text: String {
        switch self {
        case .any: return "*"
        case .suffix(let suffix): return "*" + suffix
        case .prefix(let prefix): return prefix + "*"
        case .exact(let name): return name
        }
    }

    public func matches(_ host: String) -> Bool {
        let host = host.lowercased()
        switch self {
        case .any: return true
        case .suffix(let suffix): return host.hasSuffix(suffix.lowercased())
        case .prefix(let prefix): return host.hasPrefix(prefix.lowercased())
        case .exact(let name): return host == name.lowercased()
        }
    }

    /// A host the glob matches, with `probe` standing for its wildcard.
    var exampleHost: String {
        switch self {
        case .any: return "probe.example"
        case .suffix(let suffix): return "probe" + suffix
        case .prefix(let prefix): return prefix + "probe"
        case .exact(let name): return name
        }
    }
}

/// A header to add to requests or responses.
public struct HeaderAddition: Sendable, Hashable {
    public var name: String
    public var value: String
    /// Add beside an existing value (true, Ambassador's default) or replace it.
    public var append: Bool
}

/// A parsed `service` field: `[scheme://]host[:port]`.
public struct ServiceReference: Sendable, Hashable {
    /// "http" or "https", lowercased; nil when not written.
    public var scheme: String?
    /// Lowercased host name or IP address (IPv6 without brackets).
    public var host: String
    /// The port number, when written as a number.
    public var port: Int?
    /// The port name, when written as a name (`websvc:http`), resolved later through the Service's ports.
    public var portName: String?

    public var isTLS: Bool { scheme == "https" }

    /// The port Envoy connects to when the Mapping names none: 80, or 443 for `https://`.
    public var defaultPort: Int { isTLS ? 443 : 80 }
}
