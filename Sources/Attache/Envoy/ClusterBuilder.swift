/// Stage (part): routing model clusters → Envoy Clusters. A service name resolves through DNS (STRICT_DNS, IPv4
/// only unless the Module enables IPv6, as Ambassador does); an IP address needs no resolution (STATIC); an
/// endpoint set is STATIC with its members inline, or EDS from its own file (see `EndpointDelivery`).
public func buildClusters(_ model: RoutingModel, delivery: EndpointDelivery, secretsDirectory: String = "secrets")
    -> [Envoy.Cluster]
{
    parallelMap(count: model.clusters.count) {
        envoyCluster(model.clusters[$0], delivery: delivery, secretsDirectory: secretsDirectory)
    }
}

/// The file (relative to the output directory) that holds an EDS cluster's endpoints: the cluster name with
/// `/` as `_` (Kubernetes names have no `_`, so this cannot collide).
public func endpointFileName(forCluster name: String) -> String {
    // Byte by byte: Foundation's replacingOccurrences cost more than the rest of the cluster (perf, sidecar at 10k).
    let file = String(decoding: name.utf8.map { $0 == UInt8(ascii: "/") ? UInt8(ascii: "_") : $0 }, as: UTF8.self)
    return "endpoints/" + file + ".json"
}

/// An endpoint cluster's members as a ClusterLoadAssignment.
func loadAssignment(_ cluster: UpstreamCluster) -> Envoy.ClusterLoadAssignment {
    Envoy.ClusterLoadAssignment(
        clusterName: cluster.name,
        endpoints: cluster.members.map { Envoy.SocketAddress(address: $0.address, port: $0.port) })
}

func envoyCluster(_ cluster: UpstreamCluster, delivery: EndpointDelivery, secretsDirectory: String = "secrets")
    -> Envoy.Cluster
{
    var built: Envoy.Cluster
    switch cluster.discovery {
    case .endpoints:
        switch delivery {
        case .inline:
            built = Envoy.Cluster(
                name: cluster.name, type: .STATIC, connectTimeoutMs: cluster.connectTimeoutMs, dnsLookupFamily: nil,
                loadAssignment: loadAssignment(cluster), edsPath: nil, upstreamTLS: cluster.tls)
        case .files(let directory, let encoding):
            built = Envoy.Cluster(
                name: cluster.name, type: .EDS, connectTimeoutMs: cluster.connectTimeoutMs, dnsLookupFamily: nil,
                loadAssignment: nil,
                edsPath: directory + "/" + encoding.envoyFile(endpointFileName(forCluster: cluster.name)),
                upstreamTLS: cluster.tls)
        }
    case .dns(let host, let port):
        let isAddress = isIPAddress(host)
        built = Envoy.Cluster(
            name: cluster.name, type: isAddress ? .STATIC : (cluster.settings.logicalDNS ? .LOGICAL_DNS : .STRICT_DNS),
            connectTimeoutMs: cluster.connectTimeoutMs,
            dnsLookupFamily: isAddress ? nil : cluster.settings.dnsLookupFamily,
            loadAssignment: Envoy.ClusterLoadAssignment(
                clusterName: cluster.name, endpoints: [Envoy.SocketAddress(address: host, port: port)]),
            edsPath: nil, upstreamTLS: cluster.tls)
        built.respectDNSTTL = !isAddress && cluster.settings.respectDNSTTL
        // `https://name`: the name goes in the handshake, as virtual-hosted TLS servers need (Emissary sends none).
        if cluster.tls, !isAddress { built.sni = host }
    }
    if let context = cluster.settings.tlsContext {
        built.tlsContext = context
        built.secretsDirectory = secretsDirectory
        built.sni = context.sni
    }
    let settings = cluster.settings
    built.lbPolicy = settings.lbPolicy
    built.http2 = settings.http2
    built.idleTimeoutMs = settings.idleTimeoutMs
    built.maxConnectionDurationMs = settings.maxConnectionLifetimeMs
    built.circuitBreakers = settings.circuitBreakers
    built.keepalive = settings.keepalive
    return built
}
