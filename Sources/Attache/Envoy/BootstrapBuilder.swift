/// Everything Envoy gets from one translation.
public struct EnvoyConfig: Sendable, Equatable {
    public var routeConfiguration: Envoy.RouteConfiguration
    public var clusters: [Envoy.Cluster]
    public var bootstrap: Envoy.Bootstrap
}

/// Stage: routing model → Envoy resources. The bootstrap is self-contained (`envoy -c bootstrap.json` runs as
/// is): one HTTP listener carrying the route configuration, the clusters, and an admin listener.
public func buildEnvoyConfig(_ model: RoutingModel, options: TranslationOptions) -> EnvoyConfig {
    let routes = buildRouteConfiguration(model)
    let clusters = buildClusters(model)
    let listener = Envoy.Listener(
        name: "attache-http-\(options.listenPort)",
        address: Envoy.SocketAddress(address: options.listenAddress, port: options.listenPort),
        routeConfiguration: routes)
    let bootstrap = Envoy.Bootstrap(
        nodeID: "attache", listeners: [listener], clusters: clusters,
        admin: Envoy.SocketAddress(address: options.adminAddress, port: options.adminPort))
    return EnvoyConfig(routeConfiguration: routes, clusters: clusters, bootstrap: bootstrap)
}
