/// The host Envoy resolves for a Kubernetes-resolved service. A bare name (no `.`, no `:`, not `localhost`) in a
/// Mapping outside Ambassador's namespace gets `.<mapping namespace>` appended, so `svc1` in `prod` becomes
/// `svc1.prod`; inside Ambassador's namespace it stays `svc1`. The Module's
/// `use_ambassador_namespace_for_service_resolution` turns this off.
func qualifiedServiceHost(
    _ host: String, mappingNamespace: String, ambassadorNamespace: String, useAmbassadorNamespace: Bool
) -> String {
    guard !useAmbassadorNamespace, !host.containsBytes("."), !host.containsBytes(":"), host != "localhost",
        mappingNamespace != ambassadorNamespace
    else { return host }
    return "\(host).\(mappingNamespace)"
}
