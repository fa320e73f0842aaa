@testable import Attache

// Small routing values for unit tests that need one Mapping or one Route with only a few fields set.

/// A v2 Mapping on `prefix` to `svc`, every host unless `headers` says otherwise, no other fields unless given.
func sampleMapping(
    prefix: String, precedence: Int = 0, name: String = "m", weight: Int? = nil,
    headers: [HeaderMatcher] = [HeaderMatcher(name: ":authority", value: .hostGlob("*"))],
    coreFields: Mapping.GroupCoreFields = Mapping.GroupCoreFields(
        prefixRegex: nil, prefixExact: nil, connectTimeoutMs: nil)
) -> Mapping {
    let location = SourceLocation(file: "t.yaml", line: 1, column: 1)
    return Mapping(
        reference: ObjectReference(kind: "Mapping", namespace: "default", name: name), location: location,
        processingKey: "\(name).default.1", dialect: .v2,
        match: Mapping.Match(
            prefix: prefix, pathMatch: .prefix, caseSensitive: nil, headers: headers, queryParameters: [],
            precedence: precedence),
        upstream: Mapping.Upstream(
            text: "svc", service: ServiceReference(scheme: nil, host: "svc", port: nil, portName: nil),
            location: location, resolver: nil,
            resolverLocation: nil),
        weight: weight, weightLocation: nil, coreFields: coreFields,
        route: RouteSettings(), cluster: ClusterSettings())
}

/// A route of Mapping `default/m` on every path to cluster `c`, with a rewrite to `/` and the default timeout.
func sampleRoute() -> Route {
    Route(
        mapping: ObjectReference(kind: "Mapping", namespace: "default", name: "m"),
        location: SourceLocation(file: "t.yaml", line: 1, column: 1), pathMatch: .prefix, prefix: "/",
        caseSensitive: true,
        headers: [], queryParameters: [], cumulativeWeight: 100, cluster: "c",
        settings: RouteSettings(
            prefixRewrite: "/", timeoutMs: 3000, removeRequestHeaders: [], removeResponseHeaders: []))
}
