/// Stage (part): routing model clusters → Envoy Clusters. A service name resolves through DNS (STRICT_DNS, IPv4
/// only unless the Module enables IPv6, as Ambassador does); an IP address needs no resolution (STATIC).
public func buildClusters(_ model: RoutingModel) -> [Envoy.Cluster] {
    model.clusters.map(envoyCluster)
}

func envoyCluster(_ cluster: UpstreamCluster) -> Envoy.Cluster {
    switch cluster.discovery {
    case .dns(let host, let port):
        let isAddress = isIPAddress(host)
        return Envoy.Cluster(
            name: cluster.name, type: isAddress ? .STATIC : .STRICT_DNS, connectTimeoutMs: cluster.connectTimeoutMs,
            dnsLookupFamily: isAddress ? nil : (cluster.ipv6 ? "AUTO" : "V4_ONLY"),
            loadAssignment: Envoy.ClusterLoadAssignment(clusterName: cluster.name, endpoints: [Envoy.SocketAddress(address: host, port: port)]),
            upstreamTLS: cluster.tls)
    }
}

/// True for an IPv4 dotted quad or an IPv6 literal.
func isIPAddress(_ host: String) -> Bool {
    if host.contains(":") { return true }
    let parts = host.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 4 && parts.allSatisfy { part in
        !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) && (Int(part) ?? 256) <= 255
    }
}
