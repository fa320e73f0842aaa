extension RouteSettings {
    /// Each setting as people read it, in a fixed order: what `diff` compares and prints (and what a new setting
    /// adds a line to).
    public var described: [(name: String, value: String)] {
        func duration(_ ms: Int?) -> String { ms.map { Envoy.duration(milliseconds: $0) } ?? "(none)" }
        func added(_ list: [HeaderAddition]) -> String {
            list.isEmpty ? "(none)" : list.map { "\($0.name)=\($0.value)" }.sorted().joined(separator: ", ")
        }
        func removed(_ list: [String]?) -> String { (list ?? []).sorted().joined(separator: ", ") }
        return [
            ("rewrite", prefixRewrite ?? "(none)"),
            ("host rewrite", hostRewrite ?? "(none)"),
            ("timeout", duration(timeoutMs)),
            ("idle timeout", duration(idleTimeoutMs)),
            ("request headers added", added(addRequestHeaders)),
            ("response headers added", added(addResponseHeaders)),
            ("request headers removed", removed(removeRequestHeaders)),
            ("response headers removed", removed(removeResponseHeaders)),
        ]
    }
}

extension UpstreamSettings {
    /// Each setting as people read it, in a fixed order: what `diff` compares and `explain` prints for a cluster.
    public var described: [(name: String, value: String)] {
        func onOff(_ flag: Bool) -> String { flag ? "on" : "off" }
        func duration(_ ms: Int?) -> String { ms.map { Envoy.duration(milliseconds: $0) } ?? "(none)" }
        let keepaliveText = keepalive.map { k in
            [("time", k.idleTime), ("interval", k.interval), ("probes", k.probes)].compactMap { name, value in
                value.map { "\(name) \($0)" }
            }.joined(separator: ", ")
        }
        let breakersText = circuitBreakers.map { list in
            list.map { b in
                let limits = [
                    ("connections", b.maxConnections), ("pending", b.maxPendingRequests), ("requests", b.maxRequests),
                    ("retries", b.maxRetries),
                ].compactMap { name, value in value.map { "\(name) \($0)" } }
                return "\(b.priority ?? "default"): " + (limits.isEmpty ? "defaults" : limits.joined(separator: ", "))
            }.joined(separator: "; ")
        }
        return [
            ("connect timeout", Envoy.duration(milliseconds: connectTimeoutMs)),
            ("IPv6", onOff(ipv6)),
            ("IPv4", onOff(ipv4)),
            ("HTTP/2", onOff(http2)),
            ("DNS", logicalDNS ? "logical" : "strict"),
            ("DNS TTL respected", onOff(respectDNSTTL)),
            ("idle timeout", duration(idleTimeoutMs)),
            ("connection lifetime", duration(maxConnectionLifetimeMs)),
            ("keepalive", keepaliveText ?? "(none)"),
            ("circuit breakers", breakersText ?? "(none)"),
        ]
    }
}
