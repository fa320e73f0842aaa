/// Everything Envoy gets from one translation.
public struct EnvoyConfig: Sendable, Equatable {
    /// One route configuration per filter chain (names unique); Attaché's default listener has exactly one.
    public var routeConfigurations: [Envoy.RouteConfiguration]
    public var clusters: [Envoy.Cluster]
    /// For `EndpointDelivery.files`: each EDS cluster's endpoint file (relative to the output directory) and
    /// its ClusterLoadAssignment.
    public var endpointFiles: [(path: String, assignment: Envoy.ClusterLoadAssignment)]
    public var bootstrap: Envoy.Bootstrap
    /// The certificates TLS chains read through SDS, each from `secretFileName(for:)` in the secrets directory.
    public var secrets: [CertificateSecret] = []

    public static func == (a: EnvoyConfig, b: EnvoyConfig) -> Bool {
        a.routeConfigurations == b.routeConfigurations && a.clusters == b.clusters && a.bootstrap == b.bootstrap
            && a.secrets == b.secrets
            && a.endpointFiles.map(\.path) == b.endpointFiles.map(\.path)
            && a.endpointFiles.map(\.assignment) == b.endpointFiles.map(\.assignment)
    }
}

/// Stage: routing model → Envoy resources. The bootstrap is self-contained (`envoy -c bootstrap.json` runs as
/// is): one HTTP listener carrying the route configuration, the clusters, and an admin listener.
public func buildEnvoyConfig(_ model: RoutingModel, addresses: EnvoyAddresses, delivery: EndpointDelivery)
    -> EnvoyConfig
{
    // One after the other, each on all processors: side by side, the routes would take far longer than the clusters.
    let clusters = buildClusters(model, delivery: delivery, secretsDirectory: addresses.secretsDirectory)
    var endpointFiles: [(path: String, assignment: Envoy.ClusterLoadAssignment)] = []
    if case .files = delivery {
        for cluster in model.clusters {
            if case .endpoints = cluster.discovery {
                endpointFiles.append((endpointFileName(forCluster: cluster.name), loadAssignment(cluster)))
            }
        }
    }
    let corsFilter = model.groups.contains { $0.routes.contains { $0.settings.cors != nil } }
    var listeners: [Envoy.Listener]
    var routeConfigurations: [Envoy.RouteConfiguration]
    if let edge = model.edge {
        (listeners, routeConfigurations) = buildEdgeListeners(
            edge, connection: model.connection, authorization: extAuthz(model), addresses: addresses,
            corsFilter: corsFilter)
    } else {
        let routes = buildRouteConfiguration(model)
        var listener = Envoy.Listener(
            name: "attache-http-\(addresses.listenPort)",
            address: Envoy.SocketAddress(address: addresses.listenAddress, port: addresses.listenPort),
            routes: .inline(routes), corsFilter: corsFilter)
        // Attaché's own listener takes what the Module writes, and nothing else (Envoy's defaults otherwise).
        listener.bufferLimitBytes = model.connection.bufferLimitBytes
        listener.chains[0].manager.module = model.connection
        listener.chains[0].manager.useRemoteAddress = model.connection.useRemoteAddress
        listener.chains[0].manager.accessLog = model.connection.accessLog
        listener.chains[0].authorization = extAuthz(model)
        listeners = [listener]
        routeConfigurations = [routes]
    }
    let bootstrap = Envoy.Bootstrap(
        nodeID: "attache", listeners: listeners, clusters: clusters,
        admin: Envoy.SocketAddress(address: addresses.adminAddress, port: addresses.adminPort),
        runtime: Envoy.LayeredRuntime(regexMaxProgramSize: model.regexMaxProgramSize))
    return EnvoyConfig(
        routeConfigurations: routeConfigurations, clusters: clusters, endpointFiles: endpointFiles,
        bootstrap: bootstrap,
        secrets: Dictionary(
            ((model.edge?.certificates ?? []) + model.upstreamCertificates).map { ($0.name, $0) },
            uniquingKeysWith: { first, _ in first }
        ).values.sorted { $0.name < $1.name })
}

/// The listeners of an input with Listeners or Hosts: one per Listener, a filter chain per TLS server name and one
/// cleartext chain, each chain with its own route configuration (its virtual hosts), named after the chain.
func buildEdgeListeners(
    _ edge: EdgeModel, connection: ConnectionSettings, authorization: Envoy.ExtAuthz?, addresses: EnvoyAddresses,
    corsFilter: Bool
)
    -> (listeners: [Envoy.Listener], routes: [Envoy.RouteConfiguration])
{
    var listeners: [Envoy.Listener] = []
    var routes: [Envoy.RouteConfiguration] = []
    func sds(_ name: String) -> Envoy.FileConfigSource {
        Envoy.FileConfigSource(path: addresses.secretsDirectory + "/" + secretFileName(for: name))
    }
    for listener in edge.listeners {
        var chains: [Envoy.FilterChain] = []
        for chain in listener.chains {
            let configuration = Envoy.RouteConfiguration(
                name: chain.name,
                virtualHosts: chain.virtualHosts.map { host in
                    Envoy.VirtualHost(
                        name: host.name, domains: [host.hostname],
                        routes: host.routes.map { envoyRoute($0, checked: authorization != nil) })
                })
            routes.append(configuration)
            var manager = Envoy.ConnectionManagerSettings()
            // Emissary's connection manager: its stats prefix, the client's address (and so its scheme) taken from
            // the connection unless `l7Depth` proxies in front are trusted, paths normalised before matching.
            // An access log to standard output unless the Module says otherwise, and the Module's settings.
            manager.statPrefix = listener.statsPrefix
            manager.useRemoteAddress = connection.useRemoteAddress ?? true
            manager.trustedHops = listener.l7Depth > 0 ? listener.l7Depth : nil
            manager.normalizePath = true
            manager.accessLog = connection.accessLog ?? .emissaryDefault
            manager.module = connection
            chains.append(
                Envoy.FilterChain(
                    name: chain.name,
                    tls: chain.tls.map { tls in
                        Envoy.DownstreamTLSContext(
                            serverNames: tls.serverNames, certificate: sds(tls.certificate),
                            certificateName: tls.certificate, clientCA: tls.clientCA.map { (sds($0), $0) },
                            requireClientCertificate: tls.settings.certRequired == true, settings: tls.settings)
                    },
                    routes: .inline(configuration), corsFilter: corsFilter, manager: manager,
                    authorization: authorization))
        }
        listeners.append(
            Envoy.Listener(
                name: listener.name,
                address: Envoy.SocketAddress(address: addresses.listenAddress, port: listener.port),
                chains: chains, proxyProtocol: listener.proxyProtocol))
    }
    return (listeners, routes)
}

/// The ext_authz filter of the model's AuthService, if it has one.
func extAuthz(_ model: RoutingModel) -> Envoy.ExtAuthz? {
    guard let authorization = model.authorization else { return nil }
    let service = authorization.service.service
    return Envoy.ExtAuthz(
        service: authorization.service, cluster: authorization.cluster,
        uri: "\(service.isTLS ? "https" : "http")://\(service.host):\(service.port ?? service.defaultPort)")
}

/// The file a certificate's SDS resource is in, inside the secrets directory.
public func secretFileName(for name: String) -> String { name + ".json" }

/// The addresses of Envoy's HTTP listener and of its admin listener.
public struct EnvoyAddresses: Sendable, Equatable {
    public var listenAddress = "0.0.0.0"
    public var listenPort = 8080
    public var adminAddress = "127.0.0.1"
    public var adminPort = 9901
    /// Where TLS chains read their certificates (SDS files, `<namespace>.<secret>.json`): `DIR/secrets` for
    /// `translate --output DIR` and `watch --xds-dir DIR`, `secrets` (relative to Envoy's directory) otherwise.
    public var secretsDirectory = "secrets"

    public init() {}
}

/// How endpoint-routed clusters receive their pod addresses.
public enum EndpointDelivery: Sendable, Equatable {
    /// In the cluster itself (STATIC): a self-contained bootstrap, what `translate` writes. A static bootstrap is
    /// restarted to change anyway, and `envoy --mode validate` checks only what the bootstrap contains.
    case inline
    /// From one file per cluster under `<directory>/endpoints/` (EDS), for the sidecar: pod churn rewrites only
    /// those files. One file per cluster because Envoy's file-based EDS takes exactly one ClusterLoadAssignment per
    /// file ("Unexpected EDS resource length: 2" otherwise). Envoy reads them in `encoding`.
    case files(directory: String, encoding: XDSEncoding = .json)
}

/// The form Envoy reads the sidecar's xDS files in. Attaché renders JSON (the form `diff`, `explain` and people
/// read); with `protobuf`, each file also gets a binary twin (`rds.pb` beside `rds.json`) and Envoy is pointed at
/// the twin, because Envoy parses binary several times faster (docs/PERFORMANCE.md, end to end).
public enum XDSEncoding: String, Sendable, Equatable {
    case protobuf, json

    /// The file Envoy reads for the rendered file `name` (`rds.json` → `rds.pb`); Envoy picks its parser by the
    /// extension.
    public func envoyFile(_ name: String) -> String {
        guard self == .protobuf, name.hasSuffix(".json") else { return name }
        return name.dropLast(".json".count) + ".pb"
    }
}
