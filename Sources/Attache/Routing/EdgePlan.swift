// The edge, planned: which ports Envoy listens on, which filter chain (cleartext, or TLS for a server name) a
// connection takes, which virtual host a request's Host header picks, and which of the route table's routes each
// virtual host carries, as Emissary 3.x decides it (envoy/v3/v3listener.py `compute_httpchains`,
// `compute_http_routes`; ir/irhost.py `matches_httpgroup`; ir/irlistener.py `matches_host`).
//
// Only when the input has Listeners or Hosts (`AmbassadorResources.hasEdge`): without either, Attaché keeps its one
// plain HTTP listener with every route (the default documented in docs/ROUTING.md).

/// The listeners, filter chains and virtual hosts of an input that describes its own edge, and the certificates
/// their TLS chains serve.
public struct EdgeModel: Sendable, Equatable {
    public var listeners: [EdgeListener] = []
    /// Every certificate (and client-CA bundle) a TLS chain names, by SDS name, sorted by name.
    public var certificates: [CertificateSecret] = []
}

/// A certificate and its key (or, for a client-CA bundle, certificates alone), delivered to Envoy through SDS from a
/// file of its own (mode 0600). The bytes never go anywhere else; `description` names it without them.
public struct CertificateSecret: Sendable, Equatable, CustomStringConvertible {
    /// The SDS resource name: `<namespace>.<secret>` for a certificate, `<namespace>.<secret>.ca` for a CA bundle.
    public var name: String
    public var certificateChain: [UInt8]
    /// nil for a CA bundle (a validation context).
    public var privateKey: [UInt8]?

    public var description: String { "CertificateSecret(\(name))" }
}

/// One Envoy listener made from a `Listener`.
public struct EdgeListener: Sendable, Equatable {
    /// The Listener's name (Emissary's listener name is `ambassador-listener-<address>-<port>`; the object's name
    /// reads better in `envoy` admin output and cannot collide: names are unique per namespace and ports per
    /// listener).
    public var name: String
    public var port: Int
    public var proxyProtocol: Bool
    public var securityModel: AmbassadorListener.SecurityModel
    public var l7Depth: Int
    public var statsPrefix: String
    /// TLS chains first (each matched by server name), then the one cleartext chain, as Envoy must see them: a
    /// chain with an empty match would otherwise take the TLS connections too.
    public var chains: [EdgeFilterChain]
}

/// One filter chain: cleartext (every Host's virtual host) or TLS for one server name.
public struct EdgeFilterChain: Sendable, Equatable {
    /// Also the name of the chain's route configuration.
    public var name: String
    public var tls: DownstreamTLS?
    public var virtualHosts: [EdgeVirtualHost]
}

/// How a TLS chain terminates TLS: the certificate it serves (by SDS name), the client CA it requires, and the
/// TLSContext's settings.
public struct DownstreamTLS: Sendable, Equatable {
    /// `filter_chain_match.server_names`; empty when a Host is `*` (Envoy refuses `*` there).
    public var serverNames: [String]
    public var certificate: String
    public var clientCA: String?
    public var settings: TLSSettings
}

/// One virtual host: a Host's name and the routes it takes, in route-table order, each already made secure or
/// insecure as the Listener and the Host's `requestPolicy` want.
public struct EdgeVirtualHost: Sendable, Equatable {
    public var name: String
    public var hostname: String
    public var routes: [Route]
}

/// The SDS name of a Secret's certificate and key (`<namespace>.<name>`), or of the CA bundle it holds when used as
/// an authority (`<namespace>.<name>~ca`: `~` is in no Kubernetes name, so the two cannot collide). Also the name of
/// its file under `secrets/`.
func certificateSecretName(namespace: String, name: String, authority: Bool) -> String {
    "\(namespace).\(name)\(authority ? "~ca" : "")"
}

/// The Secret an SDS name stands for (`certificateSecretName`), as a certificate for Envoy; nil when it is not in
/// the resources or not usable (the stage that named it has already said so).
func certificateSecret(named sdsName: String, in resources: AmbassadorResources) -> CertificateSecret? {
    let authority = sdsName.hasSuffix("~ca")
    let base = authority ? String(sdsName.dropLast(3)) : sdsName
    guard let dot = base.firstIndex(of: ".") else { return nil }
    let key = base[..<dot] + "/" + base[base.index(after: dot)...]
    guard let secret = resources.secrets[String(key)], let chain = secret.certificateChain else { return nil }
    if !authority && secret.privateKey == nil { return nil }
    return CertificateSecret(name: sdsName, certificateChain: chain, privateKey: authority ? nil : secret.privateKey)
}

/// The prefix Emissary always routes, whatever a Host says about insecure requests (ACME HTTP-01 challenges).
let acmeChallengePrefix = "/.well-known/acme-challenge/"

/// Stage (part of the routing model): Listeners, Hosts, TLSContexts and Secrets, with the route table → the edge.
/// Hosts that cannot serve (a missing or broken certificate Secret, a TLSContext that does not exist or disagrees)
/// are rejected alone with a diagnostic; the other Hosts keep serving.
func buildEdgeModel(_ resources: AmbassadorResources, groups: [CanaryGroup], log: inout DiagnosticLog) -> EdgeModel {
    var listeners = resources.listeners
    if listeners.isEmpty {
        listeners = helmDefaultListeners()
        log.note(
            .defaultEdge,
            "Hosts but no Listener: listening on Emissary's Helm chart defaults, 8080 (HTTP) and 8443 (HTTPS), securityModel XFP, every Host; write Listeners to choose",
            at: resources.hosts[0].location, object: resources.hosts[0].reference)
    }
    var hosts = resources.hosts
    if hosts.isEmpty {
        // Emissary's default Host when none is written: every host name, cleartext routed, no mappingSelector.
        let first = listeners[0]
        hosts = [
            AmbassadorHost(
                reference: ObjectReference(kind: "Host", namespace: first.reference.namespace, name: "default-host"),
                location: first.location, processingKey: "default-host", labels: [:], hostname: "*",
                insecureAction: .route, mappingSelector: nil, tlsSecret: nil, tlsSource: .implicit)
        ]
    }
    var certificates: [String: CertificateSecret] = [:]
    var served: [ServedHost] = []
    for host in hosts {
        if let tls = resolveTLS(for: host, resources: resources, certificates: &certificates, log: &log) {
            served.append(ServedHost(host: host, tls: tls.settings == nil ? nil : tls))
        }
    }
    reportUnusedContexts(resources, usedByHosts: Set(served.compactMap { $0.tls?.context }), log: &log)
    // Emissary walks Hosts by host name (a stable sort: same-named Hosts keep processing order).
    served = served.enumerated().sorted { a, b in
        a.element.host.hostname == b.element.host.hostname
            ? a.offset < b.offset : codePointLess(a.element.host.hostname, b.element.host.hostname)
    }.map(\.element)
    // Each Mapping's labels, in processing order (the order Emissary merges a group's labels in).
    var labels: [ObjectReference: (order: Int, labels: [String: String])] = [:]
    for (order, mapping) in resources.mappings.enumerated() where !mapping.labels.isEmpty {
        labels[mapping.reference] = (order, mapping.labels)
    }
    let selection = GroupSelection(groups: groups, hosts: served.map(\.host), labels: labels)
    var edge = EdgeModel()
    for listener in listeners {
        let taken = served.enumerated().filter { listener.takes($0.element.host) }.map {
            (index: $0.offset, served: $0.element)
        }
        edge.listeners.append(plan(listener, hosts: taken, selection: selection, log: &log))
    }
    let used = Set(
        edge.listeners.flatMap(\.chains).compactMap(\.tls).flatMap {
            [$0.certificate] + ($0.clientCA.map { [$0] } ?? [])
        })
    edge.certificates = certificates.values.filter { used.contains($0.name) }.sorted { $0.name < $1.name }
    reportUnroutedMappings(groups, selection: selection, log: &log)
    return edge
}

/// A Host that can serve, with its TLS (nil: cleartext only).
private struct ServedHost {
    var host: AmbassadorHost
    var tls: ResolvedTLS?
}

/// A Host's TLS: the TLSContext it takes its settings from (nil: its own), the settings, and the SDS names of its
/// certificate and client CA.
private struct ResolvedTLS {
    /// The TLSContext named or found by name (nil: the Host's own settings).
    var context: ObjectReference?
    /// The context as Emissary names it: `context`, else `<host>-context`. Chains compare by it.
    var identity: ObjectReference
    var settings: TLSSettings?
    var certificate: String
    var clientCA: String?
}

/// Emissary's Helm chart's two Listeners, used when the input has Hosts and no Listener.
private func helmDefaultListeners() -> [AmbassadorListener] {
    [(8080, false), (8443, true)].map { port, tls in
        AmbassadorListener(
            reference: ObjectReference(
                kind: "Listener", namespace: "default", name: "emissary-ingress-\(tls ? "https" : "http")-listener"),
            location: SourceLocation(file: "(default)", line: 0, column: 0), processingKey: "", port: port,
            terminatesTLS: tls, proxyProtocol: false, securityModel: .xfp, l7Depth: 0,
            statsPrefix: tls ? "ingress-https" : "ingress-http", hostNamespace: nil, hostSelector: [:])
    }
}

extension AmbassadorListener {
    /// `hostBinding`: the Host's namespace and labels (irlistener.py `matches_host`).
    func takes(_ host: AmbassadorHost) -> Bool {
        if let namespace = hostNamespace, namespace != host.reference.namespace { return false }
        return hostSelector.allSatisfy { host.labels[$0.key] == $0.value }
    }
}

/// A Host's TLS, or nil when the Host must be rejected (said in `log`). `ResolvedTLS.settings` nil: no TLS.
private func resolveTLS(
    for host: AmbassadorHost, resources: AmbassadorResources, certificates: inout [String: CertificateSecret],
    log: inout DiagnosticLog
) -> ResolvedTLS? {
    guard let secretName = host.tlsSecret else {
        return ResolvedTLS(context: nil, identity: host.reference, settings: nil, certificate: "")
    }
    let namespace = host.reference.namespace
    func context(named name: String) -> AmbassadorTLSContext? {
        resources.tlsContexts.first { $0.reference.name == name && $0.reference.namespace == namespace }
            ?? resources.tlsContexts.first { $0.reference.name == name }
    }
    var settings = TLSSettings()
    var contextReference: ObjectReference?
    switch host.tlsSource {
    case .named(let name):
        guard let found = context(named: name) else {
            log.error(
                .hostInvalid,
                "tlsContext \(name) does not exist; the Host is not served (it would otherwise serve TLS without the settings asked for)",
                at: host.location, object: host.reference)
            return nil
        }
        if let contextSecret = found.secret, contextSecret != secretName.name,
            contextSecret != "\(secretName.name).\(secretName.namespace ?? namespace)"
        {
            log.error(
                .tlsContextConflict,
                "tlsContext \(name) uses secret \(contextSecret) but the Host's tlsSecret is \(secretName.name); the Host is not served",
                at: host.location, object: host.reference)
            return nil
        }
        if let names = found.hosts, !names.contains(host.hostname) {
            log.warning(
                .tlsContextConflict,
                "tlsContext \(name) lists hosts \(names.joined(separator: ", ")), not \(host.hostname); Emissary uses it anyway, and so does Attaché",
                at: host.location, object: host.reference)
        }
        settings = found.settings
        contextReference = found.reference
    case .inline(let inline):
        settings = inline
    case .implicit:
        if let found = context(named: host.reference.name + "-context") {
            settings = found.settings
            contextReference = found.reference
        }
    }
    // Emissary gives a Host without a TLSContext of its own one named `<host>-context`: two Hosts sharing a server
    // name on one listener must share a context, so such Hosts never do.
    let identity =
        contextReference
        ?? ObjectReference(kind: "TLSContext", namespace: namespace, name: host.reference.name + "-context")
    let secretNamespace = secretName.namespace ?? namespace
    guard
        let certificate = certificateSecret(
            name: secretName.name, namespace: secretNamespace, wantsKey: true, for: host, resources: resources,
            log: &log)
    else { return nil }
    certificates[certificate.name] = certificate
    var clientCA: String?
    if let caName = settings.caSecret {
        guard
            let ca = certificateSecret(
                name: caName, namespace: contextReference?.namespace ?? namespace, wantsKey: false, for: host,
                resources: resources, log: &log)
        else { return nil }
        certificates[ca.name] = ca
        clientCA = ca.name
    } else if settings.certRequired == true {
        log.error(
            .hostInvalid,
            "cert_required without ca_secret: there is no CA to check client certificates against; the Host is not served",
            at: host.location, object: host.reference)
        return nil
    }
    return ResolvedTLS(
        context: contextReference, identity: identity, settings: settings, certificate: certificate.name,
        clientCA: clientCA)
}

/// The Secret `namespace/name` as an SDS certificate, or nil (with an error naming the Host) when it is missing or
/// unusable. A CA bundle (`wantsKey` false) needs only its certificates.
private func certificateSecret(
    name: String, namespace: String, wantsKey: Bool, for host: AmbassadorHost, resources: AmbassadorResources,
    log: inout DiagnosticLog
) -> CertificateSecret? {
    let what = wantsKey ? "tlsSecret" : "ca_secret"
    guard let secret = resources.secrets[namespace + "/" + name] else {
        log.error(
            .secretMissing,
            "\(what) \(namespace)/\(name) is not in the input (a v1 Secret with tls.crt\(wantsKey ? " and tls.key" : "")); the Host is not served",
            at: host.location, object: host.reference)
        return nil
    }
    var problems = secret.problems
    if secret.certificateChain == nil { problems.append("it has no tls.crt") }
    if wantsKey, secret.privateKey == nil { problems.append("it has no tls.key") }
    guard problems.isEmpty, let chain = secret.certificateChain else {
        log.error(
            .secretInvalid,
            "\(what) \(namespace)/\(name) cannot be used: \(problems.joined(separator: "; ")); the Host is not served",
            at: host.location, object: host.reference)
        return nil
    }
    return CertificateSecret(
        name: certificateSecretName(namespace: namespace, name: name, authority: !wantsKey), certificateChain: chain,
        privateKey: wantsKey ? secret.privateKey : nil)
}

/// Each TLSContext nothing uses (no Host, no Mapping's `tls`): an error when it names `hosts` (its author asked for
/// TLS on those names, as Ambassador 1.x served it; Emissary 3.x ignores such a context, with an error when there is
/// no Host at all, and so does Attaché: the names would be served in cleartext or not at all), a warning otherwise.
/// Runs with or without an edge.
func reportUnusedContexts(
    _ resources: AmbassadorResources, usedByHosts used: Set<ObjectReference>, log: inout DiagnosticLog
) {
    var named = Set<String>()
    for mapping in resources.mappings {
        if case .context(let name)? = mapping.cluster.originateTLS { named.insert(name) }
    }
    for context in resources.tlsContexts
    where !used.contains(context.reference) && !named.contains(context.reference.name) {
        if let hosts = context.hosts, !hosts.isEmpty {
            log.error(
                .tlsContextIgnored,
                "no Host uses this TLSContext, so TLS is NOT served for \(hosts.joined(separator: ", ")) (Ambassador 1.x did; Emissary 3.x and Attaché need a Host): write a Host with `tlsContext: {name: \(context.reference.name)}` and its tlsSecret",
                at: context.location, object: context.reference)
        } else {
            log.warning(
                .tlsContextIgnored,
                "no Host or Mapping uses this TLSContext (name it in a Host's tlsContext or a Mapping's tls, or call it <host>-context), so nothing uses its settings",
                at: context.location, object: context.reference)
        }
    }
}

/// Which Hosts each canary group's routes go to (irhost.py `matches_httpgroup`, with strict label selectors,
/// Emissary's default since 3.2).
private struct GroupSelection {
    var groups: [CanaryGroup]
    /// For each group, whether each Host (by index into the Hosts served) takes it.
    var hostsOfGroup: [[Bool]]

    init(
        groups: [CanaryGroup], hosts: [AmbassadorHost],
        labels: [ObjectReference: (order: Int, labels: [String: String])]
    ) {
        self.groups = groups
        hostsOfGroup = groups.map { group in
            let target = hostTarget(group)
            // The group's labels: every member Mapping's, merged in processing order, a later Mapping's value of a
            // label replacing an earlier one's (`IRHTTPMappingGroup.finalize`; the routes are in weight order, which
            // is another order when the group has weights).
            var groupLabels: [String: String] = [:]
            for member in group.routes.compactMap({ labels[$0.mapping] }).sorted(by: { $0.order < $1.order }) {
                groupLabels.merge(member.labels) { _, later in later }
            }
            return hosts.map { host in
                let hostMatch: Bool?
                switch target {
                case .all: hostMatch = true
                case .glob(let glob): hostMatch = hostGlobsOverlap(host.hostname, glob)
                case .none: hostMatch = nil
                }
                guard let selector = host.mappingSelector, !selector.isEmpty else { return hostMatch ?? false }
                let selected = selector.allSatisfy { groupLabels[$0.key] == $0.value }
                return selected && (hostMatch ?? true)
            }
        }
    }
}

/// What a group says about host names: a glob, every host (`host_regex`), or nothing.
private enum HostTarget {
    case glob(String)
    case all
    case none
}

/// The group's `:authority` condition (hostname, else host, else an exact `:authority` header), as Emissary's
/// group `host`.
private func hostTarget(_ group: CanaryGroup) -> HostTarget {
    guard let first = group.routes.first,
        let authority = first.headers.first(where: { $0.name == ":authority" })
    else { return .none }
    switch authority.value {
    case .regex: return .all
    case .exact(let name), .hostGlob(let name): return .glob(name)
    }
}

/// Emissary's `hostglob_matches`: whether some host name could match both globs.
func hostGlobsOverlap(_ a: String, _ b: String) -> Bool {
    if a == b || a == "*" || b == "*" { return true }
    guard let aFirst = a.first, let bFirst = b.first, aFirst != ".", bFirst != "." else { return false }
    let aStart = aFirst == "*", aEnd = a.last == "*", bStart = bFirst == "*", bEnd = b.last == "*"
    if (aStart && aEnd) || (bStart && bEnd) { return false }
    if !(aStart || aEnd || bStart || bEnd) { return false }
    if (aStart && bEnd) || (bStart && aEnd) { return true }
    /// `g1` starts with `*`; `g2` may too.
    func matchesStart(_ g1: String, _ g2: String, _ g2Start: Bool) -> Bool {
        var g1Match = String(g1.dropFirst()), g2Match = g2Start ? String(g2.dropFirst()) : g2
        if g1.count > g2Match.count {
            if !g2Start { return false }
            (g1Match, g2Match) = (String(g2.dropFirst()), String(g1.dropFirst()))
        }
        return g2Match.hasSuffix(g1Match)
    }
    if aStart { return matchesStart(a, b, bStart) }
    if bStart { return matchesStart(b, a, aStart) }
    // A trailing `*` is a leading one read backwards.
    let (aBack, bBack) = (String(a.reversed()), String(b.reversed()))
    return aEnd ? matchesStart(aBack, bBack, bEnd) : matchesStart(bBack, aBack, aEnd)
}

/// One listener: its filter chains (Hosts by name, TLS when the Listener speaks TLS and the Host has a
/// certificate, cleartext unless an INSECURE Listener's Host rejects it), and each chain's virtual hosts.
private func plan(
    _ listener: AmbassadorListener, hosts: [(index: Int, served: ServedHost)], selection: GroupSelection,
    log: inout DiagnosticLog
) -> EdgeListener {
    /// A chain being built: its Hosts by host name (a later Host of the same name replaces the earlier one).
    struct ChainDraft {
        var tls: ResolvedTLS?
        var serverNames: [String] = []
        var hostOrder: [String] = []
        /// Host name → the Host and its index among the Hosts served.
        var hosts: [String: (host: AmbassadorHost, index: Int)] = [:]
        var firstHostName: String

        mutating func add(_ host: AmbassadorHost, index: Int) {
            if hosts[host.hostname] == nil { hostOrder.append(host.hostname) }
            hosts[host.hostname] = (host, index)
        }
    }
    var tlsChains: [String: ChainDraft] = [:]
    var tlsOrder: [String] = []
    var cleartext = ChainDraft(tls: nil, firstHostName: "")
    for (index, served) in hosts {
        let host = served.host
        if listener.terminatesTLS, let tls = served.tls {
            let key = host.sni
            if var chain = tlsChains[key] {
                if chain.tls?.identity != tls.identity {
                    log.error(
                        .hostConflict,
                        "another Host serves \(key) on port \(listener.port) with other TLS settings; this Host is not served there (Emissary discards it too)",
                        at: host.location, object: host.reference)
                } else {
                    if !chain.serverNames.contains(key) { chain.serverNames.append(key) }
                    chain.add(host, index: index)
                    tlsChains[key] = chain
                }
            } else {
                var chain = ChainDraft(tls: tls, serverNames: [key], firstHostName: host.reference.name)
                chain.add(host, index: index)
                tlsChains[key] = chain
                tlsOrder.append(key)
            }
        }
        if !(listener.securityModel == .insecure && host.insecureAction == .reject) {
            cleartext.add(host, index: index)
        }
    }
    var chains: [EdgeFilterChain] = []
    for key in tlsOrder {
        guard let draft = tlsChains[key], let tls = draft.tls, let settings = tls.settings else { continue }
        chains.append(
            EdgeFilterChain(
                name: "\(listener.reference.name)-https-\(draft.firstHostName)",
                tls: DownstreamTLS(
                    serverNames: draft.serverNames.contains("*") ? [] : draft.serverNames, certificate: tls.certificate,
                    clientCA: tls.clientCA, settings: settings),
                virtualHosts: draft.hostOrder.compactMap { name in
                    draft.hosts[name].map {
                        plannedVirtualHost($0.host, index: $0.index, listener: listener, selection: selection)
                    }
                }))
    }
    if !cleartext.hostOrder.isEmpty {
        chains.append(
            EdgeFilterChain(
                name: "\(listener.reference.name)-http",
                tls: nil,
                virtualHosts: cleartext.hostOrder.compactMap { name in
                    cleartext.hosts[name].map {
                        plannedVirtualHost($0.host, index: $0.index, listener: listener, selection: selection)
                    }
                }))
    }
    return EdgeListener(
        name: listener.reference.name, port: listener.port, proxyProtocol: listener.proxyProtocol,
        securityModel: listener.securityModel, l7Depth: listener.l7Depth, statsPrefix: listener.statsPrefix,
        chains: chains)
}

/// A Host's virtual host on a listener: every route of the groups it takes, in route-table order, as Emissary's
/// candidates: the secure one (unless the Listener is INSECURE), routed, on `X-Forwarded-Proto: https` under XFP;
/// then the insecure one (unless SECURE), with the Host's insecure action. Rejected candidates are left out (the
/// request falls through, to 404 at the end).
private func plannedVirtualHost(
    _ host: AmbassadorHost, index hostIndex: Int, listener: AmbassadorListener, selection: GroupSelection
) -> EdgeVirtualHost {
    var routes: [Route] = []
    for (groupIndex, takes) in selection.hostsOfGroup.enumerated() where takes[hostIndex] {
        for route in selection.groups[groupIndex].routes {
            routes.append(contentsOf: candidates(route, host: host, model: listener.securityModel))
        }
    }
    return EdgeVirtualHost(name: "\(listener.reference.name)-\(host.hostname)", hostname: host.hostname, routes: routes)
}

/// The routes Emissary writes for one route on one Host (v3listener.py `compute_http_routes` and v3route.py's
/// matchers and actions).
private func candidates(_ route: Route, host: AmbassadorHost, model: AmbassadorListener.SecurityModel) -> [Route] {
    var secure: (route: Route, action: InsecureAction)?
    var insecure: (route: Route, action: InsecureAction)?
    // Under XFP the variants replace the Mapping's own `X-Forwarded-Proto` matcher (secure: `https`; insecure:
    // none); SECURE and INSECURE Listeners leave the matchers as written.
    var withoutXFP = route
    if model == .xfp { withoutXFP.headers.removeAll { $0.name.lowercased() == "x-forwarded-proto" } }
    if model != .insecure {
        var variant = withoutXFP
        if model == .xfp { variant.headers.append(HeaderMatcher(name: "x-forwarded-proto", value: .exact("https"))) }
        secure = (variant, .route)
    }
    if model != .secure {
        let variant = withoutXFP
        let forced = route.pathMatch == .prefix && route.prefix == acmeChallengePrefix
        insecure = (variant, forced ? .route : host.insecureAction)
    }
    // Under XFP, a route that is routed both ways needs no XFP condition at all: the insecure variant (without
    // one) would take whatever the secure one does not, so one route says the same as Emissary's two.
    if model == .xfp, let insecureVariant = insecure, insecureVariant.action == .route {
        return [insecureVariant.route]
    }
    var result: [Route] = []
    for candidate in [secure, insecure].compactMap({ $0 }) {
        switch candidate.action {
        case .route: result.append(candidate.route)
        case .reject: continue
        case .redirect:
            // Emissary drops the route action (rewrites, timeouts, retries, mirror) and keeps the rest: header
            // changes and CORS.
            var redirect = candidate.route
            var settings = RouteSettings(prefixRewrite: nil)
            settings.addRequestHeaders = route.settings.addRequestHeaders
            settings.removeRequestHeaders = route.settings.removeRequestHeaders
            settings.addResponseHeaders = route.settings.addResponseHeaders
            settings.removeResponseHeaders = route.settings.removeResponseHeaders
            settings.cors = route.settings.cors
            redirect.settings = settings
            redirect.redirect = Redirect(host: "", httpsRedirect: true)
            redirect.cluster = ""
            result.append(redirect)
        }
    }
    return result
}

/// A warning for each Mapping that no Host takes: Emissary routes it nowhere, and so does Attaché.
private func reportUnroutedMappings(_ groups: [CanaryGroup], selection: GroupSelection, log: inout DiagnosticLog) {
    for (group, takes) in zip(groups, selection.hostsOfGroup) where !takes.contains(true) {
        for route in group.routes {
            log.warning(
                .mappingWithoutHost,
                "no Host takes this Mapping, so it is not routed (as in Emissary): give it a `hostname` a Host matches, or the labels a Host's mappingSelector asks for",
                at: route.location, object: route.mapping)
        }
    }
}
