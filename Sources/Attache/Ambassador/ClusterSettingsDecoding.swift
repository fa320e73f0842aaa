import YAML

// The Mapping (and Module) fields that shape an upstream cluster, read as Emissary 3.10 reads them
// (ir/ircluster.py, envoy/v3/v3cluster.py) and checked against what Envoy accepts.

/// The largest value of Envoy's `UInt32Value` fields (keepalive, circuit-breaker limits).
private let uint32Range = 0...Int(UInt32.max)

extension FieldReader {
    /// The cluster fields of a Mapping, as written.
    mutating func clusterSettings(connectTimeoutMs: Int?) -> ClusterSettings {
        var settings = ClusterSettings(connectTimeoutMs: connectTimeoutMs)
        settings.grpc = bool("grpc")
        if let dnsType = string("dns_type"), let node = node["dns_type"] {
            switch dnsType.lowercased() {
            case "strict_dns": settings.logicalDNS = false
            case "logical_dns": settings.logicalDNS = true
            default:
                // Emissary logs an error and uses STRICT_DNS: the Mapping still routes, so it does here.
                warning(
                    .mappingFieldValue,
                    "`\(path)dns_type` \"\(abbreviated(dnsType))\" is neither strict_dns nor logical_dns; strict_dns is used, as in Emissary",
                    at: node)
                settings.logicalDNS = false
            }
        }
        settings.respectDNSTTL = bool("respect_dns_ttl")
        settings.enableIPv4 = bool("enable_ipv4")
        settings.enableIPv6 = bool("enable_ipv6")
        settings.idleTimeoutMs = milliseconds("cluster_idle_timeout_ms")
        settings.maxConnectionLifetimeMs = milliseconds("cluster_max_connection_lifetime_ms")
        settings.keepalive = tcpKeepalive("keepalive")
        settings.circuitBreakers = circuitBreakers("circuit_breakers")
        if let node = node["tls"], node.resolved != .null {
            switch node.resolved {
            case .bool(true)?: settings.originateTLS = .plain
            case .bool(false)?: break
            case .string(let name)? where !name.isEmpty: settings.originateTLS = .context(name)
            default:
                error(
                    .mappingFieldType,
                    "`\(path)tls` is true, false or the name of a TLSContext, not \(node.typeDescription)", at: node)
            }
        }
        return settings
    }

    /// `keepalive: {idle_time, interval, probes}`: seconds, seconds and a count.
    mutating func tcpKeepalive(_ key: String) -> TCPKeepalive? {
        nested(key) { reader in
            TCPKeepalive(
                idleTime: reader.integer("idle_time", range: uint32Range),
                interval: reader.integer("interval", range: uint32Range),
                probes: reader.integer("probes", range: uint32Range))
        }
    }

    /// `circuit_breakers`: a list of `{priority: default|high, max_connections, max_pending_requests, max_requests,
    /// max_retries}`, each limit a count Envoy keeps in 32 bits.
    mutating func circuitBreakers(_ key: String) -> [CircuitBreaker]? {
        guard let value = node[key], value.resolved != .null else { return nil }
        guard let items = value.sequence else {
            typeError(key, expected: "a list", got: value)
            return nil
        }
        var breakers: [CircuitBreaker] = []
        for (index, item) in items.enumerated() {
            guard item.mapping != nil else {
                typeError("\(key)[\(index)]", expected: "a mapping", got: item)
                continue
            }
            let breaker = within(item, path: "\(path)\(key)[\(index)].") { reader -> CircuitBreaker in
                let priority = reader.string("priority")
                if let text = priority, let node = reader.node["priority"] {
                    switch text {
                    case "default", "high": break
                    default:
                        reader.error(
                            .mappingFieldValue,
                            "`\(reader.path)priority` must be default or high, but it is \"\(abbreviated(text))\"",
                            at: node)
                    }
                }
                return CircuitBreaker(
                    priority: priority, maxConnections: reader.integer("max_connections", range: uint32Range),
                    maxPendingRequests: reader.integer("max_pending_requests", range: uint32Range),
                    maxRequests: reader.integer("max_requests", range: uint32Range),
                    maxRetries: reader.integer("max_retries", range: uint32Range))
            }
            breakers.append(breaker)
        }
        return breakers
    }
}
