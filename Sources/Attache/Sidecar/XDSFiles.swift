// Sidecar: `attache watch` keeps a running Envoy's config current through file-based xDS.
//
// Envoy reads DIR/lds.json and DIR/cds.json (named in DIR/bootstrap.json), the routes from DIR/rds.json and each
// endpoint cluster's members from DIR/endpoints/<cluster>.json, and reloads a file when a new one is renamed over
// it. Each file is a DiscoveryResponse whose version_info hashes its content. By default Envoy reads each one's
// binary twin (lds.pb, ...; `XDSEncoding`), the same message in protobuf's wire format, which it parses faster.
// InputWatcher notices input changes; Sidecar re-runs the shared pipeline and writes only the files whose bytes
// changed, in an order that never lets a route point at a cluster Envoy does not have.

/// Everything the sidecar writes for one translation, rendered.
struct XDSFiles {
    /// `endpoints/<cluster>.json` → bytes, for the EDS clusters whose assignment changed since `previous`.
    var endpoints: [String: [UInt8]]
    /// Every EDS cluster's assignment by file, changed or not.
    var assignments: [String: Envoy.ClusterLoadAssignment]
    var clusters: [Envoy.Cluster]
    /// One file per route configuration (file-based RDS takes one resource per file): `rds.json` for Attaché's
    /// default listener, `rds-<chain>.json` for each filter chain of a Listener.
    var routes: [(file: String, bytes: [UInt8])]
    var listeners: [UInt8]
    /// `secrets/<name>.json` → the SDS resource of each certificate: secret bytes, written with mode 0600.
    var secrets: [(file: String, bytes: [UInt8])]
    /// `rtds.json`: every weighted route's threshold, in the runtime layer the routes' `runtime_fraction` reads.
    var runtime: [UInt8]
    var routesVersion: String
    var counts: (mappings: Int, routes: Int, clusters: Int, endpoints: Int)
}

/// Renders a translation (made with `EndpointDelivery.files(directory:)`) as xDS files for `directory`. Endpoint
/// files whose assignment equals the one in `previous` are not rendered again (thousands of them, rarely changed);
/// nor are the route files when `renderRoutes` is false (only weights changed: the runtime layer carries them).
func renderXDSFiles(
    _ translation: Translation, directory: String, encoding: XDSEncoding,
    previous: [String: Envoy.ClusterLoadAssignment],
    renderRoutes: Bool = true
) -> XDSFiles {
    var endpoints: [String: [UInt8]] = [:]
    var assignments: [String: Envoy.ClusterLoadAssignment] = [:]
    for file in translation.envoy.endpointFiles {
        assignments[file.path] = file.assignment
        if previous[file.path] != file.assignment {
            endpoints[file.path] = Envoy.discoveryResponse(
                typeURL: Envoy.clusterLoadAssignmentType, resources: [file.assignment], compact: true)
        }
    }
    var listeners = translation.envoy.bootstrap.listeners
    for index in listeners.indices {
        for chain in listeners[index].chains.indices {
            let name = listeners[index].chains[chain].routes.configurationName
            listeners[index].chains[chain].routes = .rds(
                Envoy.FileConfigSource(
                    path: directory + "/" + encoding.envoyFile(XDSFileNames.routes(forConfiguration: name))),
                name: name)
        }
    }
    let routes = (renderRoutes ? translation.envoy.routeConfigurations : []).map { configuration in
        (
            file: XDSFileNames.routes(forConfiguration: configuration.name),
            bytes: Envoy.discoveryResponse(
                typeURL: Envoy.routeConfigurationType, resources: [configuration], compact: true)
        )
    }
    let secrets = translation.envoy.secrets.map { secret in
        (
            file: XDSFileNames.secrets + "/" + secretFileName(for: secret.name),
            bytes: Envoy.discoveryResponse(
                typeURL: Envoy.secretType, resources: [Envoy.TLSSecretResource(secret: secret)], compact: true)
        )
    }
    let runtime = Envoy.discoveryResponse(
        typeURL: Envoy.runtimeType, resources: [Envoy.RuntimeLayer(weights: runtimeWeights(translation.envoy))],
        compact: true)
    return XDSFiles(
        endpoints: endpoints, assignments: assignments, clusters: translation.envoy.clusters, routes: routes,
        listeners: Envoy.discoveryResponse(typeURL: Envoy.listenerType, resources: listeners, compact: true),
        secrets: secrets,
        runtime: runtime,
        routesVersion: routes.count == 1
            ? discoveryVersion(routes[0].bytes)
            : stableHash(
                routes.map { discoveryVersion($0.bytes) }.joined()),
        counts: (
            translation.resources.mappings.count, translation.model.routeCount, translation.model.clusters.count,
            translation.model.clusters.reduce(0) { $0 + $1.members.count }
        ))
}

/// Every weighted route's runtime key and threshold (the same key in several virtual hosts has one value).
func runtimeWeights(_ envoy: EnvoyConfig) -> [String: Int] {
    var weights: [String: Int] = [:]
    for configuration in envoy.routeConfigurations {
        for host in configuration.virtualHosts {
            for route in host.routes {
                if let fraction = route.match.runtimeFraction { weights[fraction.runtimeKey] = fraction.percent }
            }
        }
    }
    return weights
}

/// The route configurations with every threshold at 0: two translations of the same shape route the same way
/// once the runtime layer gives the weights, so a weight step need not rewrite the routes.
func routeShape(_ envoy: EnvoyConfig) -> [Envoy.RouteConfiguration] {
    envoy.routeConfigurations.map { configuration in
        var shaped = configuration
        for host in shaped.virtualHosts.indices {
            for route in shaped.virtualHosts[host].routes.indices {
                if let key = shaped.virtualHosts[host].routes[route].match.runtimeFraction?.runtimeKey {
                    shaped.virtualHosts[host].routes[route].match.runtimeFraction = (0, key)
                }
            }
        }
        return shaped
    }
}

/// The `version_info` of a rendered DiscoveryResponse (its first field), compact or not.
func discoveryVersion(_ bytes: [UInt8]) -> String {
    for prefix in [Array("{\"version_info\":\"".utf8), Array("{\n  \"version_info\": \"".utf8)]
    where bytes.count >= prefix.count + 8 && Array(bytes[0..<prefix.count]) == prefix {
        return String(decoding: bytes[prefix.count..<(prefix.count + 8)], as: UTF8.self)
    }
    return ""
}

/// The sidecar's bootstrap: admin, and listeners and clusters from files.
func sidecarBootstrap(directory: String, encoding: XDSEncoding, addresses: EnvoyAddresses, regexMaxProgramSize: Int)
    -> [UInt8]
{
    func source(_ name: String) -> Envoy.FileConfigSource {
        Envoy.FileConfigSource(path: directory + "/" + encoding.envoyFile(name))
    }
    return JSONWriter.render(
        Envoy.DynamicBootstrap(
            nodeID: "attache",
            listenerSource: source(XDSFileNames.listeners),
            clusterSource: source(XDSFileNames.clusters),
            admin: Envoy.SocketAddress(address: addresses.adminAddress, port: addresses.adminPort),
            runtime: Envoy.LayeredRuntime(
                regexMaxProgramSize: regexMaxProgramSize, weights: source(XDSFileNames.runtime))))
}

/// The xDS files the sidecar writes for `translation` (rendered for a directory `/xds`), as JSON: the listeners, the
/// weights, every cluster, the route files and the endpoint files (certificates left out: they stay JSON).
func sidecarXDSFiles(_ translation: Translation) -> [(file: String, bytes: [UInt8])] {
    let files = renderXDSFiles(translation, directory: "/xds", encoding: .protobuf, previous: [:])
    let clusters = Envoy.discoveryResponse(typeURL: Envoy.clusterType, resources: files.clusters, compact: true)
    return [(XDSFileNames.listeners, files.listeners), (XDSFileNames.runtime, files.runtime)]
        + [(XDSFileNames.clusters, clusters)] + files.routes
        + files.endpoints.sorted { $0.key < $1.key }.map { (file: $0.key, bytes: $0.value) }
}

/// The first of the sidecar's xDS files for `translation` that the protobuf encoder refuses, with why, or nil.
/// For the fuzz target (any input the pipeline takes must be writable); the sidecar itself encodes each file as it
/// writes it.
public func firstUnencodableXDSFile(_ translation: Translation) -> (file: String, error: ProtobufEncodingError)? {
    for (file, bytes) in sidecarXDSFiles(translation) {
        do {
            _ = try protobufEncoding(ofJSON: bytes, as: Envoy.discoveryResponseMessage)
        } catch {
            return (file, error)
        }
    }
    return nil
}
