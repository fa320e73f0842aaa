/// A duration setting as `diff` and `explain` print it.
private func duration(_ ms: Int?) -> String { ms.map { Envoy.duration(milliseconds: $0) } ?? "(none)" }

extension RouteSettings {
    /// Each setting as people read it, in a fixed order: what `diff` compares and prints (and what a new setting
    /// adds a line to).
    public var described: [(name: String, value: String)] {
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
            ("regex rewrite", regexRewrite.map { "\($0.pattern) → \($0.substitution)" } ?? "(none)"),
            ("auto host rewrite", autoHostRewrite == true ? "on" : "off"),
            ("upgrades", upgrades.map { $0.isEmpty ? "(none)" : $0.joined(separator: ", ") } ?? "(none)"),
            ("retry policy", retryPolicy.map(describe) ?? "(none)"),
            ("CORS", cors.map(describe) ?? "(none)"),
            ("hash policy", hashPolicy.map(describe) ?? "(none)"),
            ("mirror", mirror.map { "\($0.cluster) (\($0.percent)%)" } ?? "(none)"),
            ("authorization check", bypassAuth ? "bypassed" : "(default)"),
            (
                "auth context",
                authContextExtensions.map { $0.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ", ") }
                    ?? "(none)"
            ),
        ]
    }
}

/// The settings whose values differ from a plain route's, as `name value`: what `explain` adds under a route.
func changedSettings(_ described: [(name: String, value: String)], from plain: [(name: String, value: String)])
    -> [String]
{
    zip(described, plain).filter { $0.0.value != $0.1.value }.map { "\($0.0.name) \($0.0.value)" }
}

private func describe(_ policy: RetryPolicy) -> String {
    var text = "on \(policy.retryOn)"
    if let retries = policy.numRetries { text += ", \(retries) retries" }
    if let timeout = policy.perTryTimeout { text += ", \(timeout) per try" }
    return text
}

private func describe(_ cors: CORSPolicy) -> String {
    var parts: [String] = []
    if let origins = cors.origins { parts.append("origins " + origins.joined(separator: " ")) }
    if let methods = cors.methods { parts.append("methods " + methods) }
    if let headers = cors.headers { parts.append("headers " + headers) }
    if let exposed = cors.exposedHeaders { parts.append("exposed " + exposed) }
    if let maxAge = cors.maxAge { parts.append("max age " + maxAge) }
    if let credentials = cors.credentials { parts.append("credentials " + (credentials ? "on" : "off")) }
    return parts.isEmpty ? "on" : parts.joined(separator: "; ")
}

private func describe(_ policy: HashPolicy) -> String {
    switch policy {
    case .header(let name): return "header \(name)"
    case .cookie(let name, _, _): return "cookie \(name)"
    case .sourceIP: return "source IP"
    }
}

extension Redirect {
    /// The Location a request is sent to (`http://host/path`), and the status.
    func location(for request: ProbeRequest, route: Route, regexes: RegexCache) -> String {
        if httpsRedirect { return "https://\(request.host)\(request.pathWithQuery)" }
        // Envoy keeps the request's query unless the new path brings its own.
        let query = request.pathWithQuery.split(separator: "?", maxSplits: 1).dropFirst().first.map { "?\($0)" } ?? ""
        var path = request.pathWithQuery
        if let replacement = self.path {
            path = replacement.contains("?") ? replacement : replacement + query
        } else if let prefix {
            path = prefix + request.pathWithQuery.dropFirst(route.prefix.count)
        } else if let regex {
            path = (regexes.replacing(regex, in: request.path) ?? request.path) + query
        }
        return "http://\(host)\(path)"
    }

    var status: Int { responseCode ?? 301 }

    /// Where it sends the client, in short: `new.example.com/here…`, or `https` (the same URL) for a Host's
    /// cleartext redirect.
    var target: String {
        if httpsRedirect { return "https (same host and path)" }
        return host + (path ?? prefix.map { "\($0)…" } ?? regex.map { "/\($0.pattern)/" } ?? "")
    }
}

extension UpstreamSettings {
    /// Each setting as people read it, in a fixed order: what `diff` compares and `explain` prints for a cluster.
    public var described: [(name: String, value: String)] {
        func onOff(_ flag: Bool) -> String { flag ? "on" : "off" }
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
            ("load balancing", lbPolicy.lowercased()),
            ("IPv6", onOff(ipv6)),
            ("IPv4", onOff(ipv4)),
            ("HTTP/2", onOff(http2)),
            ("DNS", logicalDNS ? "logical" : "strict"),
            ("DNS TTL respected", onOff(respectDNSTTL)),
            ("idle timeout", duration(idleTimeoutMs)),
            ("connection lifetime", duration(maxConnectionLifetimeMs)),
            ("keepalive", keepaliveText ?? "(none)"),
            ("circuit breakers", breakersText ?? "(none)"),
            ("TLS context", tlsContext.map(describe) ?? "(none)"),
        ]
    }
}

/// A Mapping's `tls: CONTEXT` as people read it: what the upstream connection presents, checks and sends.
private func describe(_ context: UpstreamTLSContext) -> String {
    var parts: [String] = []
    if let certificate = context.clientCertificate { parts.append("client certificate \(certificate)") }
    if let authority = context.trustedCA { parts.append("upstream verified against \(authority)") }
    if let sni = context.sni { parts.append("SNI \(sni)") }
    let settings = context.settings
    if let min = settings.minTLSVersion { parts.append("min \(min)") }
    if let max = settings.maxTLSVersion { parts.append("max \(max)") }
    if let ciphers = settings.cipherSuites { parts.append("ciphers \(ciphers.joined(separator: ","))") }
    if let curves = settings.ecdhCurves { parts.append("curves \(curves.joined(separator: ","))") }
    if let alpn = settings.alpnProtocols { parts.append("ALPN \(alpn)") }
    return parts.isEmpty ? "TLS" : parts.joined(separator: ", ")
}
