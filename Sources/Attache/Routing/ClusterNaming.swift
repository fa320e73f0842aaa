/// Cluster names: readable, unique, at most 60 characters, and the same on every run.
///
/// A DNS cluster is `cluster_<host with dots as _>`, plus `_<port>` when the port is not the scheme's default and
/// `_tls` for https; an endpoint cluster is Emissary's `k8s/<namespace>/<service>/<port>`. Which fields make two clusters different is `UpstreamCluster.Identity`. A cluster whose
/// settings differ from Ambassador's defaults, a name longer than 60 characters, and names that would collide all
/// get an 8-hex-digit hash of the identity, so that adding a Mapping never renames an existing cluster.
///
/// `identities` must be distinct; the names come back in the same order.
func clusterNames(for identities: [UpstreamCluster.Identity]) -> [String] {
    let maxLength = 60
    @Sendable func hasDefaultSettings(_ identity: UpstreamCluster.Identity) -> Bool {
        identity.connectTimeoutMs == AmbassadorDefaults.connectTimeoutMs && !identity.ipv6
    }
    // Each name on its own (on all processors), except for counting which plain names collide.
    // Hashed where they are made, so that counting them below hashes nothing.
    let base = parallelMap(count: identities.count) { Prehashed(readableClusterName(identities[$0])) }
    let baseNumber = numberByFirstOccurrence(base).number
    // Only clusters that would keep the plain name can collide; the others always carry a hash.
    var uses = [Int](repeating: 0, count: base.count)
    for index in identities.indices where hasDefaultSettings(identities[index]) { uses[baseNumber[index]] += 1 }
    let unique = identities.indices.map {
        base[$0].key.utf8.count <= maxLength && uses[baseNumber[$0]] == 1 && hasDefaultSettings(identities[$0])
    }
    return parallelMap(count: identities.count) { index -> String in
        if unique[index] { return base[index].key }
        let suffix = "_" + stableHash(identityText(identities[index]))
        return String(decoding: base[index].key.utf8.prefix(maxLength - suffix.utf8.count), as: UTF8.self) + suffix
    }
}

private func readableClusterName(_ identity: UpstreamCluster.Identity) -> String {
    switch identity.discovery {
    case .dns(let host, let port):
        var name = "cluster_" + sanitized(host)
        if port != (identity.tls ? 443 : 80) { name += "_\(port)" }
        if identity.tls { name += "_tls" }
        return name
    case .endpoints(let namespace, let service, let port):
        // Emissary's name for an endpoint set; Envoy accepts `/` in cluster names.
        return "k8s/\(namespace)/\(service)/\(port)" + (identity.tls ? "_tls" : "")
    }
}

/// Lowercase letters and digits stay; everything else becomes `_`.
private func sanitized(_ text: String) -> String {
    String(
        decoding: text.utf8.map { byte -> UInt8 in
            let lower = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
            return (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z"))
                || (lower >= UInt8(ascii: "0") && lower <= UInt8(ascii: "9")) ? lower : UInt8(ascii: "_")
        }, as: UTF8.self)
}

private func identityText(_ identity: UpstreamCluster.Identity) -> String {
    switch identity.discovery {
    case .dns(let host, let port):
        return "dns|\(host)|\(port)|tls=\(identity.tls)|connect=\(identity.connectTimeoutMs)|ipv6=\(identity.ipv6)"
    case .endpoints(let namespace, let service, let port):
        return
            "k8s|\(namespace)|\(service)|\(port)|tls=\(identity.tls)|connect=\(identity.connectTimeoutMs)|ipv6=\(identity.ipv6)"
    }
}
