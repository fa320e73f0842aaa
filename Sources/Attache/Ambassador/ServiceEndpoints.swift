import YAML

/// A `v1 Service`'s ports: what a Mapping's port refers to, and where it leads on the pods.
public struct KubernetesService: Sendable {
    public struct Port: Sendable, Equatable {
        public var name: String?
        public var port: Int
        /// A container port number, or the name of a container port; Kubernetes defaults it to `port`.
        public var targetPort: TargetPort
    }

    public enum TargetPort: Sendable, Equatable {
        case number(Int)
        case name(String)
    }

    public var namespace: String
    public var name: String
    public var ports: [Port]
}

/// The ready pod addresses of one Service, from `v1 Endpoints` or `discovery.k8s.io/v1 EndpointSlice` objects.
public struct ServiceEndpoints: Sendable {
    /// One Endpoints subset or one EndpointSlice: addresses that share a port list.
    public struct Subset: Sendable, Equatable {
        public var addresses: [String]
        public var ports: [(name: String?, port: Int)]
        /// Addresses and ports written in the object that Envoy could not use (not an IP address, a port outside
        /// 1–65535): left out, and warned about by the clusters that would have used them.
        public var unusable: [String] = []

        public static func == (a: Subset, b: Subset) -> Bool {
            a.addresses == b.addresses && a.ports.map(\.port) == b.ports.map(\.port)
                && a.ports.map(\.name) == b.ports.map(\.name)
                && a.unusable == b.unusable
        }
    }

    public enum Source: String, Sendable {
        case endpoints = "Endpoints"
        case endpointSlices = "EndpointSlices"
    }

    public var namespace: String
    public var name: String
    public var subsets: [Subset]
    public var source: Source
}

/// Decodes a `v1 Service`'s ports.
func decodeService(_ object: KubernetesObject) -> KubernetesService {
    var ports: [KubernetesService.Port] = []
    for entry in object.body["spec"]?["ports"]?.sequence ?? [] {
        guard case .int(let number)? = entry["port"]?.resolved else { continue }
        let name = entry["name"]?.scalar?.text
        var target = KubernetesService.TargetPort.number(number)
        switch entry["targetPort"]?.resolved {
        case .int(let t)?: target = .number(t)
        case .string(let t)?: target = Int(t).map(KubernetesService.TargetPort.number) ?? .name(t)
        default: break
        }
        ports.append(KubernetesService.Port(name: name, port: number, targetPort: target))
    }
    return KubernetesService(namespace: object.namespace, name: object.name, ports: ports)
}

/// Decodes `v1 Endpoints`: only `addresses` are ready; `notReadyAddresses` are left out.
func decodeEndpoints(_ object: KubernetesObject) -> ServiceEndpoints {
    var subsets: [ServiceEndpoints.Subset] = []
    for subset in object.body["subsets"]?.sequence ?? [] {
        let written = (subset["addresses"]?.sequence ?? []).compactMap { $0["ip"]?.scalar?.text }
        subsets.append(usableSubset(addresses: written, ports: subset["ports"]))
    }
    return ServiceEndpoints(namespace: object.namespace, name: object.name, subsets: subsets, source: .endpoints)
}

/// The service an EndpointSlice belongs to (its `kubernetes.io/service-name` label).
func endpointSliceServiceName(_ object: KubernetesObject) -> String? {
    object.labels["kubernetes.io/service-name"]
}

/// Decodes one `discovery.k8s.io/v1 EndpointSlice` as a subset. An endpoint is used when it is ready (a missing
/// `ready` counts as ready, as Kubernetes documents) and not terminating.
func decodeEndpointSlice(_ object: KubernetesObject) -> ServiceEndpoints.Subset? {
    let addressType = object.body["addressType"]?.scalar?.text ?? "IPv4"
    guard addressType == "IPv4" || addressType == "IPv6" else { return nil }
    var addresses: [String] = []
    for endpoint in object.body["endpoints"]?.sequence ?? [] {
        let conditions = endpoint["conditions"]
        if conditions?["ready"]?.resolved == .bool(false) { continue }
        if conditions?["terminating"]?.resolved == .bool(true) { continue }
        addresses += (endpoint["addresses"]?.sequence ?? []).compactMap { $0.scalar?.text }
    }
    return usableSubset(addresses: addresses, ports: object.body["ports"])
}

/// A subset of the addresses and ports Envoy can use; the rest is kept as `unusable` for the warning.
private func usableSubset(addresses written: [String], ports node: Node?) -> ServiceEndpoints.Subset {
    var subset = ServiceEndpoints.Subset(addresses: [], ports: [])
    for address in written {
        if isIPAddressLiteral(address) {
            subset.addresses.append(address)
        } else {
            subset.unusable.append("address \"\(abbreviated(address))\"")
        }
    }
    for entry in node?.sequence ?? [] {
        guard case .int(let port)? = entry["port"]?.resolved else { continue }
        guard (1...65535).contains(port) else {
            subset.unusable.append("port \(port)")
            continue
        }
        let name = entry["name"]?.scalar?.text
        subset.ports.append((name?.isEmpty == false ? name : nil, port))
    }
    return subset
}

/// How a Mapping's service is turned into addresses.
public enum ResolverKind: String, Sendable {
    /// The service's DNS name (KubernetesServiceResolver, Ambassador's default).
    case kubernetesService = "KubernetesServiceResolver"
    /// The Service's ready pod addresses (KubernetesEndpointResolver).
    case kubernetesEndpoint = "KubernetesEndpointResolver"
    /// Consul: not supported; Mappings using it are rejected.
    case consul = "ConsulResolver"
}

/// Resolver names that exist without any object: Emissary creates `kubernetes-service` and
/// `kubernetes-endpoint`, and `endpoint` is the name its docs (and the 000 seed) use for the latter.
let builtInResolvers: [String: ResolverKind] = [
    "kubernetes-service": .kubernetesService,
    "kubernetes-endpoint": .kubernetesEndpoint,
    "endpoint": .kubernetesEndpoint,
]
