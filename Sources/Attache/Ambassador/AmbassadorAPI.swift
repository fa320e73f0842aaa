// Ambassador's API as Kubernetes serves it: which apiVersions and kinds exist (Emissary 3.10's CRDs), so that an
// object that only looks like Ambassador's is named, not dropped in silence.

/// apiVersions Emissary's CRDs serve for resources. `x.getambassador.io/v3alpha1` is Emissary 2's spelling
/// (`AmbassadorMapping`, ...), still read.
let servedAmbassadorVersions = [
    "getambassador.io/v2", "getambassador.io/v3alpha1", "getambassador.io/v1", "x.getambassador.io/v3alpha1",
]

private let servedVersionSet = Set(servedAmbassadorVersions)
private let ambassadorKindSet = Set(ambassadorKinds)

/// Every kind of Ambassador's API (Emissary's and Edge Stack's), whether Attaché implements it or not.
let ambassadorKinds = [
    "Mapping", "Module", "Host", "Listener", "TLSContext", "AuthService", "RateLimitService", "LogService",
    "TracingService", "TCPMapping", "KubernetesEndpointResolver", "KubernetesServiceResolver", "ConsulResolver",
    "DevPortal", "AmbassadorMapping", "AmbassadorHost", "AmbassadorListener", "AmbassadorTLSContext",
    "AmbassadorTCPMapping", "Filter", "FilterPolicy", "RateLimit", "WebApplicationFirewall",
    "WebApplicationFirewallPolicy",
]

/// Why an object is not read as Ambassador's although it means to be, as a diagnostic to report; nil when it is
/// fine or plainly someone else's. An unknown version of Ambassador's API group is an error (Kubernetes would
/// refuse the object, and nothing else could have been meant); an unknown kind in it, an apiVersion whose group is
/// a near miss of `getambassador.io`, or a `Mapping` in another group is a warning with the likely intent
/// (`--strict` makes warnings fail a CI run).
func ambassadorAPIProblem(_ object: KubernetesObject) -> (severity: Severity, code: DiagnosticCode, message: String)? {
    let apiVersion = object.apiVersion
    // Core objects (`v1`: Services, Endpoints, ...) are most of the input and have no group: done at once.
    guard apiVersion.utf8.contains(UInt8(ascii: "/")) || object.kind == "Mapping" else { return nil }
    if isAmbassadorResource(apiVersion: apiVersion) {
        if case .document = object.origin, !servedVersionSet.contains(apiVersion) {
            return (
                .error, .unknownAmbassadorVersion,
                "apiVersion \"\(abbreviated(apiVersion))\" is not a version Kubernetes serves for Ambassador (getambassador.io/v2 and v3alpha1); skipped (did you mean \(likelyVersion(apiVersion))?)"
            )
        }
        if !ambassadorKindSet.contains(object.kind) {
            let hint =
                ambassadorKinds.first { $0.lowercased() == object.kind.lowercased() }
                ?? closestName(to: object.kind, among: ambassadorKinds, maximumDistance: 3)
            return (
                .warning, .unknownAmbassadorKind,
                "kind \"\(abbreviated(object.kind))\" is not a kind of Ambassador's API; skipped\(hint.map { " (did you mean \($0)?)" } ?? "")"
            )
        }
        return nil
    }
    let group = apiVersion.split(separator: "/").dropLast().joined(separator: "/")
    let looksLikeAmbassador =
        group.lowercased().contains("ambassador")
        || closestName(to: group.lowercased(), among: ["getambassador.io"], maximumDistance: 3) != nil
    let isMappingKind = object.kind == "Mapping" || object.kind == "AmbassadorMapping"
    guard looksLikeAmbassador || isMappingKind else { return nil }
    return (
        .warning, .notAmbassadorAPIVersion,
        "\(object.kind) with apiVersion \"\(abbreviated(apiVersion))\" is not Ambassador's, so it is skipped (did you mean \(likelyVersion(apiVersion))?)"
    )
}

/// The served apiVersion an unknown one most likely means: same major version (`v3`, `v3alpha` → v3alpha1; `v1`
/// → v1), else v2.
private func likelyVersion(_ apiVersion: String) -> String {
    let version = apiVersion.split(separator: "/").last.map { $0.lowercased() } ?? ""
    if version.hasPrefix("v3") { return "getambassador.io/v3alpha1" }
    if version == "v1" { return "getambassador.io/v1" }
    return "getambassador.io/v2"
}
