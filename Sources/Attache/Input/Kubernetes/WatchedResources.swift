// What Attaché reads from the Kubernetes API: every kind the pipeline understands, and nothing else (docs/
// KUBERNETES.md lists the RBAC this needs: get, list and watch on these resources).

/// One kind of object, as the API serves it.
public struct WatchedResource: Sendable, Hashable {
    /// The API group; empty for the core group (`v1`).
    public var group: String
    public var version: String
    /// The URL name (`mappings`).
    public var plural: String
    public var kind: String
    /// `--label-selector` applies (not to Endpoints, EndpointSlices and Secrets, which other objects name).
    public var selectable: Bool
    /// A field selector the list and watch carry.
    public var fieldSelector: String?
    /// Secrets: only those holding a certificate (`data["tls.crt"]`) are kept, of any type, as Emissary takes
    /// them (cmd/entrypoint/secrets.go reads `tls.crt` and `tls.key` whatever the type: a `ca_secret` is often
    /// Opaque). The others (tokens, Helm releases) are dropped as they arrive, never stored.
    public var certificatesOnly = false
    /// A custom resource whose definition may not be installed: a 404 is a notice, checked again later.
    public var optional: Bool

    public var apiVersion: String { group.isEmpty ? version : group + "/" + version }

    /// The collection's path, cluster-wide or in one namespace.
    public func path(namespace: String?) -> String {
        let root = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        return namespace.map { "\(root)/namespaces/\($0)/\(plural)" } ?? "\(root)/\(plural)"
    }
}

/// Everything the pipeline reads: Services (and their annotations), Endpoints, EndpointSlices, certificate Secrets,
/// Ambassador's resources (served as v3alpha1, whatever version they were written in) and Argo Rollouts.
public let watchedResources: [WatchedResource] = {
    func core(_ plural: String, _ kind: String, selectable: Bool, field: String? = nil) -> WatchedResource {
        WatchedResource(
            group: "", version: "v1", plural: plural, kind: kind, selectable: selectable, fieldSelector: field,
            optional: false)
    }
    func ambassador(_ plural: String, _ kind: String) -> WatchedResource {
        WatchedResource(
            group: "getambassador.io", version: "v3alpha1", plural: plural, kind: kind, selectable: true,
            fieldSelector: nil, optional: true)
    }
    return [
        core("services", "Service", selectable: true),
        core("endpoints", "Endpoints", selectable: false),
        WatchedResource(
            group: "discovery.k8s.io", version: "v1", plural: "endpointslices", kind: "EndpointSlice",
            selectable: false, fieldSelector: nil, optional: false),
        {
            var secrets = core("secrets", "Secret", selectable: false)
            secrets.certificatesOnly = true
            return secrets
        }(),
        ambassador("mappings", "Mapping"),
        ambassador("modules", "Module"),
        ambassador("hosts", "Host"),
        ambassador("listeners", "Listener"),
        ambassador("tlscontexts", "TLSContext"),
        ambassador("authservices", "AuthService"),
        ambassador("kubernetesendpointresolvers", "KubernetesEndpointResolver"),
        ambassador("kubernetesserviceresolvers", "KubernetesServiceResolver"),
        WatchedResource(
            group: "argoproj.io", version: "v1alpha1", plural: "rollouts", kind: "Rollout", selectable: true,
            fieldSelector: nil, optional: true),
    ]
}()
