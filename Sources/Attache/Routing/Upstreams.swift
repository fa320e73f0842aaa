// Upstreams: where a Mapping's traffic goes (its resolver's view of its service) and, for endpoint routing, which
// pods a cluster sends it to.

/// Where a Mapping's traffic goes: the resolver's view of its service (a qualified DNS name and port, or a
/// Service port's endpoint set) and the cluster settings that matter.
func upstreamIdentity(
    for mapping: Mapping, resources: AmbassadorResources, ambassadorNamespace: String, log: inout DiagnosticLog
) -> UpstreamCluster.Identity? {
    guard var resolver = checkedResolver(for: mapping, resources: resources, log: &log) else { return nil }
    let service = mapping.upstream.service
    // An IP address is no Kubernetes Service: Emissary's endpoint resolver falls back to a cluster with that address
    // (irserviceresolver; its Go half's parseService uses net.ParseIP).
    if resolver == .kubernetesEndpoint, isIPAddress(service.host) { resolver = .kubernetesService }
    let useAmbassadorNamespace = resources.module.useAmbassadorNamespaceForServiceResolution
    let lookupNamespace = useAmbassadorNamespace ? ambassadorNamespace : mapping.reference.namespace
    // The Service object matters only for endpoint routing and named ports; most Mappings need neither.
    let needsService = resolver == .kubernetesEndpoint || service.portName != nil
    let serviceKey = needsService ? serviceObjectKey(service.host, defaultNamespace: lookupNamespace) : ""
    let choice = needsService ? chooseServicePort(resources.services[serviceKey], reference: service) : .unknownService

    let discovery: ClusterDiscovery
    switch (resolver, choice) {
    case (_, .noMatch(let available)) where service.portName != nil:
        log.error(
            .serviceInvalid,
            "port name \"\(service.portName ?? "")\" is not a port of Service \(serviceKey) (ports: \(describe(available))); rejected",
            at: mapping.upstream.location, object: mapping.reference)
        return nil
    case (_, .unknownService) where service.portName != nil:
        log.error(
            .serviceInvalid,
            "port name \"\(service.portName ?? "")\" in `service` needs the v1 Service \(serviceKey) in the input to resolve it; rejected",
            at: mapping.upstream.location, object: mapping.reference)
        return nil
    case (.kubernetesEndpoint, _):
        let port: Int
        switch choice {
        case .port(let p): port = p.port
        case .unknownService, .noMatch: port = service.port ?? service.defaultPort
        }
        let parts = serviceKey.split(separator: "/", maxSplits: 1).map(String.init)
        discovery = .endpoints(namespace: parts[0], service: parts.count > 1 ? parts[1] : "", port: port)
    default:
        var port = service.port ?? service.defaultPort
        if case .port(let p) = choice, service.portName != nil { port = p.port }
        let host = qualifiedServiceHost(
            service.host, mappingNamespace: mapping.reference.namespace, ambassadorNamespace: ambassadorNamespace,
            useAmbassadorNamespace: useAmbassadorNamespace)
        discovery = .dns(host: host, port: port)
    }
    var settings = upstreamSettings(mapping.cluster, module: resources.module)
    switch mapping.cluster.originateTLS {
    case nil:
        return UpstreamCluster.Identity(discovery: discovery, tls: service.isTLS, settings: settings)
    case .plain?:
        return UpstreamCluster.Identity(discovery: discovery, tls: true, settings: settings)
    case .context(let name)?:
        guard
            let context = upstreamTLSContext(name, for: mapping, discovery: discovery, resources: resources, log: &log)
        else { return nil }
        settings.tlsContext = context
        return UpstreamCluster.Identity(discovery: discovery, tls: true, settings: settings)
    }
}

/// A Mapping's `tls: NAME` as the upstream connection's TLS: the TLSContext's certificate (presented to the
/// upstream), `ca_secret` (the upstream's certificate must chain to it), `sni`, versions, ciphers and ALPN. nil
/// (with an error: the Mapping is refused, as a wrong route is worse than none) when the context or a Secret it
/// names is missing or unusable. A context that adds nothing to plain TLS is plain TLS.
func upstreamTLSContext(
    _ name: String, for mapping: Mapping, discovery: ClusterDiscovery, resources: AmbassadorResources,
    log: inout DiagnosticLog
) -> UpstreamTLSContext? {
    let namespace = mapping.reference.namespace
    guard
        let context = resources.tlsContexts.first(where: {
            $0.reference.name == name && $0.reference.namespace == namespace
        }) ?? resources.tlsContexts.first(where: { $0.reference.name == name })
    else {
        log.error(
            .mappingFieldValue,
            "`tls` names TLSContext \(name), which is not in the input or was rejected; the Mapping is refused (its upstream connection would not be the one asked for)",
            at: mapping.location, object: mapping.reference)
        return nil
    }
    /// The SDS name of a usable Secret, or nil after an error.
    func secret(_ written: String, certificate: Bool) -> String? {
        var secretName = written
        var secretNamespace = context.reference.namespace
        if context.secretNamespacing != false, let dot = written.firstIndex(of: ".") {
            secretName = String(written[..<dot])
            secretNamespace = String(written[written.index(after: dot)...])
        }
        guard let found = resources.secrets[secretNamespace + "/" + secretName], found.problems.isEmpty,
            found.certificateChain != nil, !certificate || found.privateKey != nil
        else {
            log.error(
                .secretMissing,
                "TLSContext \(name) names Secret \(secretNamespace)/\(secretName), which is not in the input or not a usable certificate\(certificate ? " and key" : ""); the Mapping is refused",
                at: mapping.location, object: mapping.reference)
            return nil
        }
        return certificateSecretName(namespace: secretNamespace, name: secretName, authority: !certificate)
    }
    var clientCertificate: String?
    if let written = context.secret {
        guard let name = secret(written, certificate: true) else { return nil }
        clientCertificate = name
    }
    var trustedCA: String?
    if let written = context.settings.caSecret {
        guard let name = secret(written, certificate: false) else { return nil }
        trustedCA = name
    }
    var settings = context.settings
    settings.caSecret = nil
    settings.sni = nil
    if settings.certRequired != nil {
        log.warning(
            .tlsContextIgnored,
            "`cert_required` of TLSContext \(name) means nothing for a connection to an upstream (the upstream decides); ignored",
            at: context.location, object: context.reference)
        settings.certRequired = nil
    }
    var host: String?
    if case .dns(let name, _) = discovery, !isIPAddress(name) { host = name }
    let tls = UpstreamTLSContext(
        clientCertificate: clientCertificate, trustedCA: trustedCA, sni: context.settings.sni ?? host,
        settings: settings)
    return tls == UpstreamTLSContext(clientCertificate: nil, trustedCA: nil, sni: host, settings: TLSSettings())
        ? nil : tls
}

/// The members of an endpoint cluster, warning (once per cluster, at the first Mapping that uses it) when the
/// Service or its endpoints are unknown or no endpoint port fits: such a cluster has no members and Envoy
/// answers 503, which is what Emissary does too, and nothing crashes.
func resolveMembers(
    of identity: UpstreamCluster.Identity, firstMapping mapping: Mapping, resources: AmbassadorResources,
    log: inout DiagnosticLog
) -> [EndpointAddress] {
    guard case .endpoints(let namespace, let name, let port) = identity.discovery else { return [] }
    let key = "\(namespace)/\(name)"
    guard let endpoints = resources.endpoints[key], endpoints.subsets.contains(where: { !$0.addresses.isEmpty }) else {
        log.warning(
            .endpointsMissing,
            "no ready endpoints are known for Service \(key) (no Endpoints or EndpointSlice in the input lists a ready address); cluster k8s/\(key)/\(port) has no members and Envoy answers 503",
            at: mapping.upstream.location, object: mapping.reference)
        return []
    }
    let service = resources.services[key]
    let servicePort = service?.ports.first { $0.port == port }
    if let service, servicePort == nil {
        log.warning(
            .endpointPortUnmatched,
            "port \(port) is not a port of Service \(key) (ports: \(describe(service.ports))); cluster has no members and Envoy answers 503",
            at: mapping.upstream.location, object: mapping.reference)
        return []
    }
    let unusable = endpoints.subsets.flatMap(\.unusable)
    if !unusable.isEmpty {
        log.warning(
            .addressInvalid,
            "the \(endpoints.source.rawValue) of \(key) list what Envoy cannot use (\(unusable.prefix(5).joined(separator: ", "))\(unusable.count > 5 ? ", ..." : "")); left out",
            at: mapping.upstream.location, object: mapping.reference)
    }
    let resolved = endpointMembers(endpoints, servicePort: servicePort, fallbackPort: port)
    if !resolved.unmatchedPorts.isEmpty {
        log.warning(
            .endpointPortUnmatched,
            "some \(endpoints.source.rawValue) of \(key) have no port matching Service port \(port) (their ports: \(resolved.unmatchedPorts.joined(separator: ", "))); those addresses are left out",
            at: mapping.upstream.location, object: mapping.reference)
    }
    return resolved.members
}

private func describe(_ ports: [KubernetesService.Port]) -> String {
    ports.isEmpty ? "none" : ports.map { p in p.name.map { "\($0):\(p.port)" } ?? "\(p.port)" }.joined(separator: ", ")
}

/// True for an IPv4 dotted quad or an IPv6 literal (anything with a `:`). Byte-level: it runs once per cluster.
func isIPAddress(_ host: String) -> Bool {
    if host.utf8.contains(UInt8(ascii: ":")) { return true }
    var parts = 0, digits = 0, value = 0
    for byte in host.utf8 {
        switch byte {
        case UInt8(ascii: "."):
            guard digits > 0 else { return false }
            parts += 1
            digits = 0
            value = 0
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            digits += 1
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            guard digits <= 3, value <= 255 else { return false }
        default:
            return false
        }
    }
    return digits > 0 && parts == 3
}

/// The resolver a Mapping names (or the Module's), checked as Emissary's resolver checks every Mapping, redirects
/// too: an unknown or unsupported resolver refuses it, and so does a `load_balancer` with the service resolver
/// (Envoy balances over what DNS returns there, and the policy would decide nothing).
func checkedResolver(for mapping: Mapping, resources: AmbassadorResources, log: inout DiagnosticLog) -> ResolverKind? {
    guard let resolver = resolverKind(for: mapping, resources: resources, log: &log) else { return nil }
    if resolver == .kubernetesService, mapping.role.loadBalancer != nil {
        log.error(
            .mappingFieldValue,
            "`load_balancer` needs the endpoint resolver (`resolver: endpoint`): with the service resolver Emissary refuses the Mapping, and so does Attaché",
            at: mapping.location, object: mapping.reference)
        return nil
    }
    return resolver
}

/// A Mapping's service as Emissary's `normalize_service_name` leaves it, without the scheme: the host qualified
/// (`qualifiedServiceHost`, for a Kubernetes resolver), an IPv6 host in brackets, and the port when written.
func serviceHostPort(_ mapping: Mapping, module: AmbassadorModule, ambassadorNamespace: String) -> String {
    let service = mapping.upstream.service
    var host = qualifiedServiceHost(
        service.host, mappingNamespace: mapping.reference.namespace, ambassadorNamespace: ambassadorNamespace,
        useAmbassadorNamespace: module.useAmbassadorNamespaceForServiceResolution)
    if host.utf8.contains(UInt8(ascii: ":")) { host = "[\(host)]" }
    if let port = service.port { return "\(host):\(port)" }
    return host
}

/// A Mapping's cluster settings resolved: the Mapping's, else the Module's, else Ambassador's defaults.
func upstreamSettings(_ written: ClusterSettings, module: AmbassadorModule) -> UpstreamSettings {
    var settings = UpstreamSettings()
    settings.connectTimeoutMs = written.connectTimeoutMs ?? AmbassadorDefaults.connectTimeoutMs
    settings.ipv4 = written.enableIPv4 ?? module.enableIPv4
    settings.ipv6 = written.enableIPv6 ?? module.enableIPv6
    settings.http2 = written.grpc ?? false
    settings.logicalDNS = written.logicalDNS ?? false
    settings.respectDNSTTL = written.respectDNSTTL ?? false
    settings.idleTimeoutMs = written.idleTimeoutMs ?? module.clusterIdleTimeoutMs
    settings.maxConnectionLifetimeMs = written.maxConnectionLifetimeMs ?? module.clusterMaxConnectionLifetimeMs
    settings.keepalive = written.keepalive ?? module.keepalive
    settings.circuitBreakers = written.circuitBreakers ?? module.circuitBreakers
    settings.lbPolicy = (written.lbPolicy ?? module.loadBalancer?.policy ?? "round_robin").uppercased()
    return settings
}
