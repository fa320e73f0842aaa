// Review through the edge: with Listeners and Hosts, a request meets the routes of one virtual host, on one filter
// chain of one listener. `explain` and `diff` look at those route lists, as Envoy would.

/// Where a request lands on an edge, and the route table it meets there.
public struct EdgePlace: Sendable {
    /// `listener https (port 8443), TLS chain for a.example.com, virtual host a.example.com`.
    public var description: String
    /// The virtual host's routes as a routing model (its canary groups, every cluster); nil when no virtual host
    /// takes the request (no listener on the port, no chain for the scheme, no domain matching the host).
    public var model: RoutingModel?
    /// The request as the routes see it: Envoy sets `X-Forwarded-Proto` from the connection, unless the Listener
    /// trusts proxies in front (`l7Depth`) and one sent it.
    public var request: ProbeRequest
    /// No HTTP exchange happens at all (no listener, no chain for the scheme): not even a 404.
    public var connectionFails = false
}

/// A view of the routes one virtual host carries, for review.
struct ReviewView {
    /// `port 8443 https a.example.com`: unique per virtual host of the edge.
    var key: String
    var model: RoutingModel
}

extension RoutingModel {
    /// The route tables a review compares: one per virtual host of the edge, or the one table without one.
    func reviewViews() -> [ReviewView] {
        guard let edge else { return [ReviewView(key: "", model: self)] }
        var views: [ReviewView] = []
        for listener in edge.listeners {
            for chain in listener.chains {
                let kind =
                    chain.tls.map { tls in
                        "https" + (tls.serverNames.isEmpty ? "" : " " + tls.serverNames.joined(separator: ","))
                    } ?? "http"
                for host in chain.virtualHosts {
                    views.append(
                        ReviewView(
                            key: "[port \(listener.port) \(kind) host \(host.hostname)]",
                            model: viewModel(host.routes)))
                }
            }
        }
        return views
    }

    /// The model of one route list: its canary groups (consecutive routes with the same match) and every cluster.
    func viewModel(_ routes: [Route]) -> RoutingModel {
        var model = RoutingModel()
        model.groups = canaryGroups(readBack: routes)
        model.clusters = clusters
        model.regexMaxProgramSize = regexMaxProgramSize
        return model
    }

    /// Where `request` lands on the edge (nil when the model has none). The listener is the one on the request's
    /// port (`Host: name:port`) or, without a port, the first that serves the request's scheme (a TLS chain for its
    /// server name for https, a cleartext chain for http); the chain and virtual host are chosen as Envoy chooses
    /// them (server name; then domain: exact, longest `*.suffix`, longest `prefix.*`, then `*`).
    public func edgePlace(for request: ProbeRequest) -> EdgePlace? {
        guard let edge else { return nil }
        let (name, port) = splitHostPort(request.host)
        let secure = request.scheme == "https"
        func chain(of listener: EdgeListener) -> EdgeFilterChain? {
            if secure {
                return listener.chains.first { chain in
                    chain.tls.map { $0.serverNames.contains(name.lowercased()) } ?? false
                } ?? listener.chains.first { $0.tls != nil && $0.tls?.serverNames.isEmpty == true }
            }
            return listener.chains.first { $0.tls == nil }
        }
        let candidates = port.map { port in edge.listeners.filter { $0.port == port } } ?? edge.listeners
        guard
            let listener = candidates.first(where: { chain(of: $0) != nil })
                ?? candidates.first(where: { $0.chains.contains { $0.tls != nil } == secure }) ?? candidates.first
        else {
            return EdgePlace(
                description: "no listener on port \(port.map(String.init) ?? "?")", model: nil, request: request,
                connectionFails: true)
        }
        var seen = request
        let sent = request.headers.contains { $0.name == "x-forwarded-proto" }
        if listener.l7Depth == 0 || !sent {
            seen.headers.removeAll { $0.name == "x-forwarded-proto" }
            seen.headers.append((name: "x-forwarded-proto", value: request.scheme))
        }
        let place = "listener \(listener.name) (port \(listener.port))"
        guard let found = chain(of: listener) else {
            return EdgePlace(
                description: secure
                    ? "\(place) has no TLS chain for \(name): the TLS handshake fails"
                    : "\(place) has no cleartext chain: the connection is closed",
                model: nil, request: seen, connectionFails: true)
        }
        let chainText = found.tls == nil ? "cleartext chain" : "TLS chain \(found.name)"
        guard let host = virtualHost(for: request.host, in: found.virtualHosts) else {
            return EdgePlace(
                description: "\(place), \(chainText): no virtual host for \(request.host) (Envoy answers 404)",
                model: nil, request: seen)
        }
        return EdgePlace(
            description: "\(place), \(chainText), virtual host \(host.hostname)", model: viewModel(host.routes),
            request: seen)
    }
}

/// `name:port` → name and port (IPv6 literals in brackets keep theirs).
private func splitHostPort(_ host: String) -> (name: String, port: Int?) {
    guard let colon = host.lastIndex(of: ":"), !host.hasSuffix("]"), let port = Int(host[host.index(after: colon)...])
    else { return (host, nil) }
    return (String(host[..<colon]), port)
}

/// Envoy's virtual host choice for a Host header: an exact domain, else the longest matching `*suffix`, else the
/// longest matching `prefix*`, else `*`. Domains compare without case.
func virtualHost(for host: String, in hosts: [EdgeVirtualHost]) -> EdgeVirtualHost? {
    let host = host.lowercased()
    if let exact = hosts.first(where: { $0.hostname.lowercased() == host }) { return exact }
    let suffixes = hosts.filter { $0.hostname.hasPrefix("*") && $0.hostname.count > 1 }
        .filter { host.count > $0.hostname.count - 1 && host.hasSuffix($0.hostname.dropFirst().lowercased()) }
    if let best = suffixes.max(by: { $0.hostname.count < $1.hostname.count }) { return best }
    let prefixes = hosts.filter { $0.hostname.hasSuffix("*") && $0.hostname.count > 1 }
        .filter { host.count > $0.hostname.count - 1 && host.hasPrefix($0.hostname.dropLast().lowercased()) }
    if let best = prefixes.max(by: { $0.hostname.count < $1.hostname.count }) { return best }
    return hosts.first { $0.hostname == "*" }
}
