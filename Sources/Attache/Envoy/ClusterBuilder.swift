/// Stage (part): routing model clusters → Envoy Clusters. A service name resolves through DNS (STRICT_DNS, IPv4
/// only unless the Module enables IPv6, as Ambassador does); an IP address needs no resolution (STATIC); an
/// endpoint set is STATIC with its members inline, or EDS from its own file (see `EndpointDelivery`).
public func buildClusters(_ model: RoutingModel, delivery: EndpointDelivery) -> [Envoy.Cluster] {
    model.clusters.map { envoyCluster($0, delivery: delivery) }
}

/// The file (relative to the output directory) that holds an EDS cluster's endpoints: the cluster name with
/// `/` as `_` (Kubernetes names have no `_`, so this cannot collide).
public func endpointFileName(forCluster name: String) -> String {
    "endpoints/" + name.replacingOccurrences(of: "/", with: "_") + ".json"
}

/// An endpoint cluster's members as a ClusterLoadAssignment.
func loadAssignment(_ cluster: UpstreamCluster) -> Envoy.ClusterLoadAssignment {
    Envoy.ClusterLoadAssignment(
        clusterName: cluster.name, endpoints: cluster.members.map { Envoy.SocketAddress(address: $0.address, port: $0.port) })
}

func envoyCluster(_ cluster: UpstreamCluster, delivery: EndpointDelivery) -> Envoy.Cluster {
    switch cluster.discovery {
    case .endpoints:
        switch delivery {
        case .inline:
            return Envoy.Cluster(
                name: cluster.name, type: .STATIC, connectTimeoutMs: cluster.connectTimeoutMs, dnsLookupFamily: nil,
                loadAssignment: loadAssignment(cluster), edsPath: nil, upstreamTLS: cluster.tls)
        case .files(let directory):
            return Envoy.Cluster(
                name: cluster.name, type: .EDS, connectTimeoutMs: cluster.connectTimeoutMs, dnsLookupFamily: nil,
                loadAssignment: nil, edsPath: directory + "/" + endpointFileName(forCluster: cluster.name), upstreamTLS: cluster.tls)
        }
    case .dns(let host, let port):
        let isAddress = isIPAddress(host)
        return Envoy.Cluster(
            name: cluster.name, type: isAddress ? .STATIC : .STRICT_DNS, connectTimeoutMs: cluster.connectTimeoutMs,
            dnsLookupFamily: isAddress ? nil : (cluster.ipv6 ? "AUTO" : "V4_ONLY"),
            loadAssignment: Envoy.ClusterLoadAssignment(clusterName: cluster.name, endpoints: [Envoy.SocketAddress(address: host, port: port)]),
            edsPath: nil, upstreamTLS: cluster.tls)
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
