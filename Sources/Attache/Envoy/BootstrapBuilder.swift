/// Everything Envoy gets from one translation.
public struct EnvoyConfig: Sendable, Equatable {
    public var routeConfiguration: Envoy.RouteConfiguration
    public var clusters: [Envoy.Cluster]
    /// For `EndpointDelivery.files`: each EDS cluster's endpoint file (relative to the output directory) and
    /// its ClusterLoadAssignment.
    public var endpointFiles: [(path: String, assignment: Envoy.ClusterLoadAssignment)]
    public var bootstrap: Envoy.Bootstrap

    public static func == (a: EnvoyConfig, b: EnvoyConfig) -> Bool {
        a.routeConfiguration == b.routeConfiguration && a.clusters == b.clusters && a.bootstrap == b.bootstrap
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
    let routes = buildRouteConfiguration(model)
    let clusters = buildClusters(model, delivery: delivery)
    var endpointFiles: [(path: String, assignment: Envoy.ClusterLoadAssignment)] = []
    if case .files = delivery {
        for cluster in model.clusters {
            if case .endpoints = cluster.discovery {
                endpointFiles.append((endpointFileName(forCluster: cluster.name), loadAssignment(cluster)))
            }
        }
    }
    let listener = Envoy.Listener(
        name: "attache-http-\(addresses.listenPort)",
        address: Envoy.SocketAddress(address: addresses.listenAddress, port: addresses.listenPort),
        routes: .inline(routes),
        corsFilter: model.groups.contains { $0.routes.contains { $0.settings.cors != nil } })
    let bootstrap = Envoy.Bootstrap(
        nodeID: "attache", listeners: [listener], clusters: clusters,
        admin: Envoy.SocketAddress(address: addresses.adminAddress, port: addresses.adminPort),
        runtime: Envoy.LayeredRuntime(regexMaxProgramSize: model.regexMaxProgramSize))
    return EnvoyConfig(
        routeConfiguration: routes, clusters: clusters, endpointFiles: endpointFiles, bootstrap: bootstrap)
}

/// The addresses of Envoy's HTTP listener and of its admin listener.
public struct EnvoyAddresses: Sendable, Equatable {
    public var listenAddress = "0.0.0.0"
    public var listenPort = 8080
    public var adminAddress = "127.0.0.1"
    public var adminPort = 9901

    public init() {}
}

/// How endpoint-routed clusters receive their pod addresses.
public enum EndpointDelivery: Sendable, Equatable {
    /// In the cluster itself (STATIC): a self-contained bootstrap, what `translate` writes. A static bootstrap is
    /// restarted to change anyway, and `envoy --mode validate` checks only what the bootstrap contains.
    case inline
    /// From one file per cluster under `<directory>/endpoints/` (EDS), for the sidecar: pod churn rewrites only
    /// those files. One file per cluster because Envoy's file-based EDS takes exactly one ClusterLoadAssignment per
    /// file ("Unexpected EDS resource length: 2" otherwise).
    case files(directory: String)
}
