/// Cluster names: readable, unique, at most 60 characters, and each a function of its own identity only, so that
/// adding or removing other Mappings never renames a cluster (under the sidecar a rename is a cluster removed and
/// added: connections drained, stats reset).
///
/// A DNS cluster is `cluster_<host>`, the host's dots written as `_`, plus `_<port>` when the port is not the
/// scheme's default and `_tls` for https; an endpoint cluster is Emissary's `k8s/<namespace>/<service>/<port>`.
/// Which fields make two clusters different is `UpstreamCluster.Identity`. The readable form is kept only where it
/// names one identity and no other: the host holds only lower-case letters, digits, `-` and `.` (so `_` comes only
/// from a dot), its last label is neither all digits (a port), `tls`, nor 8 hex digits (a hash), the settings are
/// Ambassador's defaults, and the name fits in 60 characters. Any other cluster gets its readable prefix and an
/// 8-hex-digit hash of the whole identity.
///
/// `identities` must be distinct; the names come back in the same order.
func clusterNames(for identities: [UpstreamCluster.Identity]) -> [String] {
    // Each name on its own, on all processors: a name depends on nothing but its identity.
    let names = parallelMap(count: identities.count) { clusterName(identities[$0]) }
    // Two identities could share a name only if their 32-bit hashes collide: then the later ones (in identity
    // order, which is the routing model's) take a counter, the one case where a name depends on other clusters.
    let numbered = numberByFirstOccurrence(names.map { Prehashed($0) })
    guard numbered.first.count < names.count else { return names }
    var seen = [Int](repeating: 0, count: numbered.first.count)
    return names.indices.map { index in
        let number = numbered.number[index]
        seen[number] += 1
        return seen[number] == 1 ? names[index] : names[index] + "_\(seen[number])"
    }
}

/// The name of one cluster; see `clusterNames`.
func clusterName(_ identity: UpstreamCluster.Identity) -> String {
    let maxLength = 60
    let hasDefaultSettings = identity.settings == UpstreamSettings()
    let readable: String
    var unambiguous: Bool
    switch identity.discovery {
    case .dns(let host, let port):
        readable =
            "cluster_" + sanitized(host) + (port != (identity.tls ? 443 : 80) ? "_\(port)" : "")
            + (identity.tls ? "_tls" : "")
        unambiguous = isReadableHost(host)
    case .endpoints(let namespace, let service, let port):
        // Emissary's name for an endpoint set; Envoy accepts `/` in cluster names. Namespace and Service names are
        // DNS labels: no `/`, so the parts cannot run into each other.
        readable = "k8s/\(namespace)/\(service)/\(port)" + (identity.tls ? "_tls" : "")
        unambiguous = !namespace.utf8.contains(UInt8(ascii: "/")) && !service.utf8.contains(UInt8(ascii: "/"))
    }
    unambiguous = unambiguous && hasDefaultSettings && readable.utf8.count <= maxLength
    if unambiguous { return readable }
    let suffix = "_" + stableHash(identityText(identity))
    return String(decoding: readable.utf8.prefix(maxLength - suffix.utf8.count), as: UTF8.self) + suffix
}

/// True when `host` reads back from its sanitised form alone: letters, digits, `-` and `.` only (so each `_` in the
/// name was a dot), and a last label that cannot be mistaken for the port or `_tls` suffix or for a hash.
private func isReadableHost(_ host: String) -> Bool {
    // One pass over the bytes (this runs for every cluster): the allowed characters, and the last label's kind.
    var lastLabelStart = 0
    var index = 0
    var allDigits = true
    var allHex = true
    for byte in host.utf8 {
        let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
        let isLetter = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")
        guard isDigit || isLetter || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") else { return false }
        if byte == UInt8(ascii: ".") {
            lastLabelStart = index + 1
            allDigits = true
            allHex = true
        } else {
            allDigits = allDigits && isDigit
            allHex = allHex && (isDigit || byte <= UInt8(ascii: "f") && isLetter)
        }
        index += 1
    }
    let lastLabelLength = index - lastLabelStart
    if lastLabelLength > 0, allDigits { return false }
    if lastLabelLength == 8, allHex { return false }
    if lastLabelLength == 3, host.utf8.suffix(3).elementsEqual("tls".utf8) { return false }
    return true
}

/// Lower-case letters, digits and `-` stay; a dot, and anything else, becomes `_`.
private func sanitized(_ text: String) -> String {
    String(
        decoding: text.utf8.map { byte -> UInt8 in
            let lower = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
            return (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z"))
                || (lower >= UInt8(ascii: "0") && lower <= UInt8(ascii: "9")) || lower == UInt8(ascii: "-")
                ? lower : UInt8(ascii: "_")
        }, as: UTF8.self)
}

private func identityText(_ identity: UpstreamCluster.Identity) -> String {
    let settings = identity.settings
    let common = "tls=\(identity.tls)|connect=\(settings.connectTimeoutMs)|ipv6=\(settings.ipv6)"
    // The other settings each only when it is not the default, so that a name changes only when its own cluster
    // does (a setting added to Attaché later renames nothing).
    let defaults = UpstreamSettings()
    var parts: [String] = []
    func note<Value: Equatable>(_ name: String, _ value: Value, _ fallback: Value) {
        if value != fallback { parts.append("\(name)=\(value)") }
    }
    note("ipv4", settings.ipv4, defaults.ipv4)
    note("http2", settings.http2, defaults.http2)
    note("logicalDNS", settings.logicalDNS, defaults.logicalDNS)
    note("respectDNSTTL", settings.respectDNSTTL, defaults.respectDNSTTL)
    if let value = settings.idleTimeoutMs { parts.append("idle=\(value)") }
    if let value = settings.maxConnectionLifetimeMs { parts.append("lifetime=\(value)") }
    if let value = settings.keepalive {
        parts.append("keepalive=\(value.idleTime ?? -1),\(value.interval ?? -1),\(value.probes ?? -1)")
    }
    if let breakers = settings.circuitBreakers {
        let text = breakers.map {
            "\($0.priority ?? "-"):\($0.maxConnections ?? -1):\($0.maxPendingRequests ?? -1):\($0.maxRequests ?? -1):\($0.maxRetries ?? -1)"
        }
        parts.append("breakers=" + text.joined(separator: ";"))
    }
    note("lb", settings.lbPolicy, defaults.lbPolicy)
    let extra = parts.isEmpty ? "" : "|" + parts.joined(separator: "|")
    switch identity.discovery {
    case .dns(let host, let port): return "dns|\(host)|\(port)|" + common + extra
    case .endpoints(let namespace, let service, let port):
        return "k8s|\(namespace)|\(service)|\(port)|" + common + extra
    }
}
