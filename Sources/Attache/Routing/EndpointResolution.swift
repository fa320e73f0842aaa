/// One pod address a cluster sends traffic to.
public struct EndpointAddress: Sendable, Hashable, Comparable {
    public var address: String
    public var port: Int

    public static func < (a: EndpointAddress, b: EndpointAddress) -> Bool {
        if a.address != b.address { return codePointLess(a.address, b.address) }
        return a.port < b.port
    }
}

/// Which resolver a Mapping uses: its own `resolver`, else the Module's, else `kubernetes-service`. Declared
/// resolver objects come first, then the built-in names. Unknown names and Consul reject the Mapping.
func resolverKind(for mapping: Mapping, resources: AmbassadorResources, log: inout DiagnosticLog) -> ResolverKind? {
    let name = mapping.upstream.resolver ?? resources.module.resolver ?? "kubernetes-service"
    guard let kind = resources.resolvers[name] ?? builtInResolvers[name] else {
        let known = Set(resources.resolvers.keys).union(builtInResolvers.keys).sorted().joined(separator: ", ")
        log.error(
            .resolverUnknown, "resolver \"\(name)\" is not defined (known: \(known)); rejected",
            at: mapping.upstream.resolverLocation ?? mapping.location, object: mapping.reference)
        return nil
    }
    if kind == .consul {
        log.error(
            .resolverUnsupported,
            "resolver \"\(name)\" is a ConsulResolver: Consul is not supported by Attaché; rejected",
            at: mapping.upstream.resolverLocation ?? mapping.location, object: mapping.reference)
        return nil
    }
    return kind
}

/// The Service port a Mapping's service refers to: by name (`svc:http`), by number, or the only port;
/// `.noMatch` when the Service is known and no port fits (the caller warns), `.unknownService` when there is no
/// Service object to consult.
enum ServicePortChoice {
    case port(KubernetesService.Port)
    case unknownService
    case noMatch(available: [KubernetesService.Port])
}

func chooseServicePort(_ service: KubernetesService?, reference: ServiceReference) -> ServicePortChoice {
    guard let service else { return .unknownService }
    if let name = reference.portName {
        if let port = service.ports.first(where: { $0.name == name }) { return .port(port) }
        return .noMatch(available: service.ports)
    }
    if let number = reference.port {
        if let port = service.ports.first(where: { $0.port == number }) { return .port(port) }
        return .noMatch(available: service.ports)
    }
    if service.ports.count == 1 { return .port(service.ports[0]) }
    if let port = service.ports.first(where: { $0.port == reference.defaultPort }) { return .port(port) }
    return .noMatch(available: service.ports)
}

/// The ready addresses behind a Service port, as Kubernetes wires them: an endpoint port carries the Service
/// port's name, and its number is the resolved `targetPort`. A subset with a single port needs no matching.
func endpointMembers(
    _ endpoints: ServiceEndpoints, servicePort: KubernetesService.Port?, fallbackPort: Int
) -> (members: [EndpointAddress], unmatchedPorts: [String]) {
    var members = Set<EndpointAddress>()
    var unmatched: [String] = []
    for subset in endpoints.subsets where !subset.addresses.isEmpty {
        let chosen: Int?
        if subset.ports.count == 1 {
            chosen = subset.ports[0].port
        } else {
            chosen =
                subset.ports.first { candidate in
                    if let servicePort {
                        if let name = servicePort.name, candidate.name == name { return true }
                        switch servicePort.targetPort {
                        case .number(let n): return candidate.port == n
                        case .name(let n): return candidate.name == n
                        }
                    }
                    return candidate.port == fallbackPort
                }?.port
        }
        guard let port = chosen else {
            unmatched += subset.ports.map { port in port.name.map { "\($0):\(port.port)" } ?? "\(port.port)" }
            continue
        }
        for address in subset.addresses { members.insert(EndpointAddress(address: address, port: port)) }
    }
    return (members.sorted(), unmatched)
}

/// `namespace/name` of the Service a service host names: `svc` (in `defaultNamespace`) or
/// `svc.ns[.svc.cluster.local]`.
func serviceObjectKey(_ host: String, defaultNamespace: String) -> String {
    let labels = host.split(separator: ".")
    let name = labels.first.map(String.init) ?? host
    let namespace = labels.count > 1 ? String(labels[1]) : defaultNamespace
    return "\(namespace)/\(name)"
}
