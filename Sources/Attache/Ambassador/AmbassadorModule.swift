import YAML

/// The `ambassador` Module's settings that change routing. Everything else in it is warned about and ignored.
public struct AmbassadorModule: Sendable {
    /// Default resolver for Mappings that name none.
    public var resolver: String?
    /// Default route timeout; Ambassador's own default is 3000 ms.
    public var clusterRequestTimeoutMs: Int?
    /// When true, unqualified service names resolve in Ambassador's namespace instead of the Mapping's.
    public var useAmbassadorNamespaceForServiceResolution = false
    /// `defaults.httpmapping`: header settings every Mapping gets unless it sets its own.
    public var defaultAddRequestHeaders: [HeaderAddition] = []
    public var defaultAddResponseHeaders: [HeaderAddition] = []
    public var defaultRemoveRequestHeaders: [String]?
    public var defaultRemoveResponseHeaders: [String]?
    /// Ambassador resolves service names over IPv4 only unless `enable_ipv6` is true (`enable_ipv4: false` with it:
    /// IPv6 only).
    public var enableIPv4 = true
    public var enableIPv6 = false
    /// Cluster defaults for Mappings that do not set their own.
    public var clusterIdleTimeoutMs: Int?
    public var clusterMaxConnectionLifetimeMs: Int?
    public var keepalive: TCPKeepalive?
    public var circuitBreakers: [CircuitBreaker]?
    /// Route defaults for canary groups that do not set their own.
    public var cors: CORSPolicy?
    public var retryPolicy: RetryPolicy?
    public var loadBalancer: LoadBalancer?
    public var addLinkerdHeaders = false
    /// `regex_max_size`: the largest RE2 program a Mapping's regex may compile to (Envoy refuses larger ones).
    public var regexMaxSize = AmbassadorDefaults.regexMaxProgramSize
    /// The connection manager's settings (access log, remote address, header limits, ...).
    public var connection = ConnectionSettings()

    public init() {}
}

private let readModuleSettings: Set<String> = [
    "resolver", "cluster_request_timeout_ms", "use_ambassador_namespace_for_service_resolution", "defaults",
    "enable_ipv4", "enable_ipv6", "regex_max_size", "cluster_idle_timeout_ms", "cluster_max_connection_lifetime_ms",
    "keepalive", "circuit_breakers", "cors", "retry_policy", "load_balancer", "add_linkerd_headers",
]

/// Stage: the `ambassador` Module object → its settings. Settings Attaché does not implement get a warning each.
func decodeModule(_ object: KubernetesObject, log: inout DiagnosticLog) -> AmbassadorModule? {
    var module = AmbassadorModule()
    guard let config = object.fields["config"], config.resolved != .null else { return module }
    var reader = FieldReader(object: object, node: config)
    guard config.mapping != nil else {
        reader.error(
            .moduleFieldType, "the Module's `config` must be a mapping, but it is \(config.typeDescription)", at: config
        )
        log.add(contentsOf: reader.log)
        return nil
    }
    for pair in config.mapping ?? [] {
        if let key = pair.key.scalar?.text, !readModuleSettings.contains(key), !connectionSettingNames.contains(key) {
            reader.warning(
                .moduleSettingIgnored, "Module setting `\(key)` is not supported by Attaché and is ignored",
                at: pair.key)
        }
    }
    module.resolver = reader.string("resolver")
    module.clusterRequestTimeoutMs = reader.milliseconds("cluster_request_timeout_ms")
    module.useAmbassadorNamespaceForServiceResolution =
        reader.bool("use_ambassador_namespace_for_service_resolution") ?? false
    module.enableIPv4 = reader.bool("enable_ipv4") ?? true
    module.enableIPv6 = reader.bool("enable_ipv6") ?? false
    module.clusterIdleTimeoutMs = reader.milliseconds("cluster_idle_timeout_ms")
    module.clusterMaxConnectionLifetimeMs = reader.milliseconds("cluster_max_connection_lifetime_ms")
    module.keepalive = reader.tcpKeepalive("keepalive")
    module.circuitBreakers = reader.circuitBreakers("circuit_breakers")
    module.cors = reader.corsPolicy("cors")
    module.retryPolicy = reader.retryPolicy("retry_policy")
    module.loadBalancer = reader.loadBalancer("load_balancer")
    module.addLinkerdHeaders = reader.bool("add_linkerd_headers") ?? false
    module.regexMaxSize = reader.integer("regex_max_size", range: 1...100_000) ?? AmbassadorDefaults.regexMaxProgramSize
    module.connection = reader.connectionSettings()
    if let defaults = config["defaults"], defaults.resolved != .null {
        // Defaults may sit directly under `defaults` (every class) or under `defaults.httpmapping`; the latter wins.
        for scope in [defaults, defaults["httpmapping"]].compactMap({ $0 }) {
            var scoped = FieldReader(object: object, node: scope)
            if scope.mapping == nil {
                scoped.error(
                    .moduleFieldType, "`defaults` must be a mapping, but it is \(scope.typeDescription)", at: scope)
            } else {
                let request = scoped.headerAdditions("add_request_headers")
                let response = scoped.headerAdditions("add_response_headers")
                if !request.isEmpty { module.defaultAddRequestHeaders = request }
                if !response.isEmpty { module.defaultAddResponseHeaders = response }
                if let list = scoped.removableHeaderNames("remove_request_headers") {
                    module.defaultRemoveRequestHeaders = list
                }
                if let list = scoped.removableHeaderNames("remove_response_headers") {
                    module.defaultRemoveResponseHeaders = list
                }
            }
            reader.log.add(contentsOf: scoped.log)
        }
    }
    log.add(contentsOf: reader.log)
    return module
}

/// Ambassador's defaults where neither the Mapping nor the Module says otherwise.
enum AmbassadorDefaults {
    static let requestTimeoutMs = 3000
    static let connectTimeoutMs = 3000
    /// Emissary's `regex_max_size`: the largest RE2 program Envoy is told to accept.
    static let regexMaxProgramSize = 200
}
