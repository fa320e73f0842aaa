/// The AuthService every request is checked by, and the cluster its checks go to.
public struct ExternalAuthorization: Sendable, Equatable {
    public var service: AuthService
    public var cluster: String
}

/// Stage (part of the routing model): the AuthService → its cluster (its `auth_service` resolved as a Mapping's
/// `service` is by Kubernetes DNS, qualified with the AuthService's namespace; HTTP/2 for gRPC), added to the
/// clusters. A named port is refused: the AuthService must say which port to call.
func buildExternalAuthorization(
    _ resources: AmbassadorResources, clusters: inout [UpstreamCluster], ambassadorNamespace: String,
    log: inout DiagnosticLog
) -> ExternalAuthorization? {
    guard let service = resources.authService else { return nil }
    if service.service.portName != nil {
        log.error(
            .authServiceInvalid,
            "`auth_service` names a port by name; write the number. The AuthService is refused: requests are NOT authenticated",
            at: service.location, object: service.reference)
        return nil
    }
    let useAmbassadorNamespace = resources.module.useAmbassadorNamespaceForServiceResolution
    let host = qualifiedServiceHost(
        service.service.host, mappingNamespace: service.reference.namespace, ambassadorNamespace: ambassadorNamespace,
        useAmbassadorNamespace: useAmbassadorNamespace)
    let port = service.service.port ?? service.service.defaultPort
    var settings = UpstreamSettings()
    settings.connectTimeoutMs = service.connectTimeoutMs
    settings.http2 = service.proto == .grpc
    settings.ipv4 = resources.module.enableIPv4
    settings.ipv6 = resources.module.enableIPv6
    // Emissary's name for it, made unique against the Mappings' clusters.
    var name =
        "cluster_extauth_" + host.map { $0 == "." || $0 == ":" ? "_" : $0 }.reduce("") { $0 + String($1) }
        + "_\(port)"
    while clusters.contains(where: { $0.name == name }) { name += "_auth" }
    clusters.append(
        UpstreamCluster(
            name: name, discovery: .dns(host: host, port: port), tls: service.service.isTLS, settings: settings,
            members: [], mappings: []))
    clusters.sort { codePointLess($0.name, $1.name) }
    return ExternalAuthorization(service: service, cluster: name)
}
