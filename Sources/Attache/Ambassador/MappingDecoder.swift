import Foundation
import YAML

/// Fields Attaché reads from every Mapping (docs/ROUTING.md) plus the bookkeeping fields of annotation documents.
private let basicFields: Set<String> = [
    "apiVersion", "kind", "name", "namespace", "metadata", "metadata_labels", "ambassador_id", "ambassadorId",
    "generation",
    "prefix", "prefix_regex", "prefix_exact", "rewrite", "service", "weight", "headers", "regex_headers",
    "query_parameters", "regex_query_parameters", "host", "host_regex", "hostname", "method", "method_regex",
    "precedence", "case_sensitive", "timeout_ms", "idle_timeout_ms", "connect_timeout_ms", "host_rewrite",
    "add_request_headers", "add_response_headers", "remove_request_headers", "remove_response_headers", "resolver",
]

/// The cluster and route fields beyond the basic ones (ClusterSettingsDecoding.swift, RouteFieldsDecoding.swift):
/// read only when a Mapping has one, which few do (each lookup scans the Mapping's fields).
private let policyFields: Set<String> = [
    "grpc", "dns_type", "respect_dns_ttl", "enable_ipv4", "enable_ipv6", "cluster_idle_timeout_ms",
    "cluster_max_connection_lifetime_ms", "keepalive", "circuit_breakers", "add_linkerd_headers", "allow_upgrade",
    "auto_host_rewrite", "cors", "host_redirect", "load_balancer", "path_redirect", "prefix_redirect",
    "redirect_response_code", "regex_redirect", "regex_rewrite", "retry_policy", "shadow", "use_websocket",
    "bypass_auth", "auth_context_extensions", "tls",
]

/// Mapping fields Emissary implements and Attaché does not yet, each with what it would change. Each changes where
/// a request goes or what reaches the upstream, so a Mapping that uses one is refused (an error) rather than routed
/// differently from Emissary.
private let refusedFields: [String: String] = [
    "envoy_override": "adds raw Envoy route configuration",
    "error_response_overrides": "replaces error responses",
    "health_checks": "takes unhealthy endpoints out of the rotation",
]

/// Ignored fields that are core fields of a canary group in Emissary: they still decide who may join a group.
private let ignoredCoreFields = ["bypass_auth", "bypass_error_response_overrides", "labels"]

/// Mapping fields Emissary knows that change nothing without features Attaché does not have (authentication, rate
/// limiting, the developer portal, statistics names): warned about and ignored.
private let ignoredFields: [String: String] = [
    "bypass_error_response_overrides": "only used with error_response_overrides",
    "cluster_tag": "only names the cluster",
    "docs": "only used by the developer portal",
    "labels": "only used with a RateLimitService",
    "outlier_detection": "Emissary does not support it either",
    "priority": "only changes which circuit-breaker thresholds apply",
    "rate_limits": "only used with a RateLimitService",
    "stats_name": "only names the cluster's statistics",
    "v3StatsName": "only names the cluster's statistics",
    "v3health_checks": "not a field Emissary 3 reads",
]

/// The dialect of a Mapping object: its apiVersion, and whether it was written in an annotation.
func mappingDialect(_ object: KubernetesObject) -> Mapping.Dialect {
    guard object.apiVersion.hasSuffix("/v3alpha1") else { return .v2 }
    if case .annotation = object.origin { return .v3Annotation }
    return .v3Resource
}

/// A Mapping as decoding left it: the checked Mapping (nil when it must be rejected), what decoding reported, and the
/// regexes it uses with their RE2 program sizes, which collection checks against the Module's `regex_max_size` (the
/// Module may come later in the input than the Mapping).
struct DecodedMapping: Sendable {
    var mapping: Mapping?
    var diagnostics: [Diagnostic]
    var regexes: [RegexUse]

    /// A regex a Mapping uses: where, as the diagnostics name it, and its program size.
    struct RegexUse: Sendable {
        var field: String
        var location: SourceLocation
        var programSize: Int
    }
}

/// Stage: one Mapping object → a checked `Mapping`, or nil when it must be rejected, with what decoding reported.
///
/// Fields are read as Emissary 3.x reads them once its Go half has validated the object against the CRD schema
/// (types are strict: a wrong type means the object does not exist there) and converted it to v3alpha1 (see
/// `Mapping.Dialect`). Regexes are checked against RE2's grammar here and measured; their size is checked in
/// collection.
func decodeMapping(_ object: KubernetesObject) -> DecodedMapping {
    var regexes: [DecodedMapping.RegexUse] = []
    var log = DiagnosticLog()
    let mapping = decodeMapping(object, regexes: &regexes, log: &log)
    return DecodedMapping(mapping: mapping, diagnostics: log.items, regexes: regexes)
}

/// Checks `regex` (written at `node`, named `field` in diagnostics) against RE2's grammar and notes its program size.
func checkRegex(
    _ regex: String, field: String, at node: Node, reader: inout FieldReader, uses: inout [DecodedMapping.RegexUse]
) {
    if let problem = RE2Check.syntaxProblem(in: regex) {
        reader.error(.regexInvalid, "\(field) is not a valid RE2 regex: \(problem)", at: node)
    } else {
        uses.append(
            DecodedMapping.RegexUse(
                field: field, location: reader.location(node),
                programSize: RE2Check.estimatedProgramSize(Array(regex.unicodeScalars))))
    }
}

private func decodeMapping(
    _ object: KubernetesObject, regexes: inout [DecodedMapping.RegexUse], log: inout DiagnosticLog
) -> Mapping? {
    var reader = FieldReader(object: object, typing: .schema)
    let fields = reader.node
    guard fields.mapping != nil else {
        reader.error(
            .documentNotMapping, "the Mapping's spec must be a mapping, but it is \(fields.typeDescription)", at: fields
        )
        log.add(contentsOf: reader.log)
        return nil
    }
    let dialect = mappingDialect(object)

    var hasPolicies = false
    var hasIgnoredCoreFields = false
    for pair in fields.mapping ?? [] {
        guard case .string(let key)? = pair.key.resolved else {
            reader.error(
                .mappingUnknownField,
                "a field name must be a string, but this one is \(pair.key.typeDescription); the Mapping is refused",
                at: pair.key)
            continue
        }
        if key == "hostname", dialect == .v2 {
            reader.error(
                .mappingFieldValue,
                "`hostname` is not a field of \(object.apiVersion) Mappings: Emissary drops it and routes every host; in v2 `host` is the DNS glob (or use apiVersion getambassador.io/v3alpha1)",
                at: pair.key)
            continue
        }
        guard !basicFields.contains(key) else { continue }
        if policyFields.contains(key) {
            hasPolicies = true
            continue
        }
        if let effect = refusedFields[key] {
            reader.error(
                .mappingFieldNotImplemented,
                "`\(key)` \(effect) in Emissary, and Attaché does not implement it yet: the Mapping is refused rather than routed differently",
                at: pair.key)
        } else if let why = ignoredFields[key] {
            reader.warning(.mappingUnsupportedField, "`\(key)` is ignored (\(why))", at: pair.key)
            if ignoredCoreFields.contains(key) { hasIgnoredCoreFields = true }
        } else {
            // A typo (`weigth`) must not silently change where traffic goes.
            reader.error(
                .mappingUnknownField,
                "unknown field `\(abbreviated(key))`\(suggestion(for: key)); the Mapping is refused (a misspelt field would otherwise be dropped)",
                at: pair.key)
        }
    }

    // Path match.
    let prefix = reader.string("prefix", required: true)
    if let prefix, let node = fields["prefix"] {
        if prefix.isEmpty {
            reader.error(.mappingFieldValue, "`prefix` is empty; write `/` to match every path", at: node)
        } else if prefix.containsBytes("{{") {
            reader.error(
                .unrenderedTemplate,
                "`prefix` contains template text \"\(prefix)\": the manifest was not rendered (run helm template first)",
                at: node)
        }
    }
    let prefixRegex = reader.bool("prefix_regex")
    let prefixExact = reader.bool("prefix_exact")
    let isRegex = prefixRegex ?? false
    let isExact = prefixExact ?? false
    if isRegex && isExact, let node = fields["prefix_exact"] {
        reader.error(.mappingFieldValue, "`prefix_regex` and `prefix_exact` cannot both be true", at: node)
    }
    let pathMatch: Mapping.PathMatch = isRegex ? .regex : (isExact ? .exact : .prefix)
    if let prefix, !prefix.isEmpty, let node = fields["prefix"] {
        if pathMatch == .regex {
            checkRegex(prefix, field: "`prefix`", at: node, reader: &reader, uses: &regexes)
        } else if !prefix.hasPrefix("/"), !prefix.containsBytes("{{") {
            reader.warning(
                .mappingFieldValue, "`prefix` \"\(prefix)\" does not start with `/`, so no request path matches it",
                at: node)
        }
    }
    let caseSensitive = reader.bool("case_sensitive")
    if pathMatch == .regex, caseSensitive == false, let node = fields["case_sensitive"] {
        // Emissary writes case_sensitive: false beside safe_regex, where Envoy ignores it; so does Attaché.
        reader.warning(
            .mappingFieldValue,
            "`case_sensitive: false` has no effect on a regex `prefix` (Envoy ignores it there, as in Emissary); write `(?i)` at the start of the regex to ignore case",
            at: node)
    }
    let rewrite: String = reader.has("rewrite") ? (reader.string("rewrite") ?? "/") : "/"
    if let node = fields["rewrite"], let problem = envoyHeaderValueProblem(rewrite) {
        reader.error(
            .headerValueInvalid, "`rewrite` becomes the request's path, which Envoy refuses: \(problem)", at: node)
    }

    // Service.
    var service: ServiceReference?
    let serviceText = reader.string("service", required: true)
    if let text = serviceText, let node = fields["service"] {
        switch parseServiceReference(text) {
        case .success(let parsed):
            service = parsed.reference
            if parsed.droppedPath {
                reader.warning(
                    .serviceInvalid,
                    "`service` \"\(text)\" has a path; Ambassador ignores it (use `rewrite` to change the path)",
                    at: node)
            }
        case .failure(let problem):
            reader.error(problem.code, problem.message, at: node)
        }
    }

    let weight = decodeWeight(&reader)

    // Header and query matchers, in Emissary's order: `headers` then `regex_headers` (each sorted by name), then
    // `:authority` (the one host condition), then `:method`.
    var (headers, authorityHeader) = decodeMatchers(
        &reader, exactKey: "headers", regexKey: "regex_headers", dialect: dialect, regexes: &regexes)
    let (queryParameters, _) = decodeMatchers(
        &reader, exactKey: "query_parameters", regexKey: "regex_query_parameters", dialect: dialect, regexes: &regexes)
    if let authority = decodeHost(&reader, dialect: dialect, authorityHeader: authorityHeader, regexes: &regexes) {
        headers.append(authority)
    }
    if let method = reader.string("method") {
        let methodIsRegex = reader.bool("method_regex") ?? false
        if methodIsRegex, let node = fields["method"] {
            checkRegex(method, field: "`method`", at: node, reader: &reader, uses: &regexes)
        }
        if !methodIsRegex, method != method.uppercased(), let node = fields["method"] {
            reader.warning(
                .mappingFieldValue,
                "`method` \"\(method)\" is compared as written and request methods are upper case, so it matches nothing (as in Emissary); write \"\(method.uppercased())\"",
                at: node)
        }
        headers.append(HeaderMatcher(name: ":method", value: methodIsRegex ? .regex(method) : .exact(method)))
    }

    let precedence = reader.integer("precedence") ?? 0
    let timeoutMs = reader.milliseconds("timeout_ms")
    let idleTimeoutMs = reader.milliseconds("idle_timeout_ms")
    let connectTimeoutMs = reader.milliseconds("connect_timeout_ms", minimum: 1)  // Envoy: connect_timeout > 0
    let hostRewrite = reader.string("host_rewrite")
    if let hostRewrite, let node = fields["host_rewrite"], let problem = envoyHeaderValueProblem(hostRewrite) {
        reader.error(
            .headerValueInvalid, "`host_rewrite` becomes the Host header, which Envoy refuses: \(problem)", at: node)
    }
    let addRequestHeaders = reader.headerAdditions("add_request_headers", stringAllowed: !dialect.isV3)
    let addResponseHeaders = reader.headerAdditions("add_response_headers", stringAllowed: !dialect.isV3)
    let removeRequestHeaders = reader.removableHeaderNames("remove_request_headers", singleStringAllowed: !dialect.isV3)
    let removeResponseHeaders = reader.removableHeaderNames(
        "remove_response_headers", singleStringAllowed: !dialect.isV3)
    let resolver = reader.string("resolver")
    var clusterSettings =
        hasPolicies
        ? reader.clusterSettings(connectTimeoutMs: connectTimeoutMs)
        : ClusterSettings(connectTimeoutMs: connectTimeoutMs)
    var routeSettings = RouteSettings(
        prefixRewrite: rewrite.isEmpty ? nil : rewrite, hostRewrite: hostRewrite, timeoutMs: timeoutMs,
        idleTimeoutMs: idleTimeoutMs,
        addRequestHeaders: addRequestHeaders, addResponseHeaders: addResponseHeaders,
        removeRequestHeaders: removeRequestHeaders, removeResponseHeaders: removeResponseHeaders)
    let role =
        hasPolicies ? reader.routeFields(into: &routeSettings, service: serviceText, regexes: &regexes) : MappingRole()
    if routeSettings.regexRewrite != nil { routeSettings.prefixRewrite = nil }  // Emissary: rewrite = ""
    clusterSettings.lbPolicy = role.loadBalancer?.policy

    log.add(contentsOf: reader.log)
    guard reader.isValid, let prefix, let service, let serviceText, let serviceNode = fields["service"] else {
        return nil
    }
    return Mapping(
        reference: ObjectReference(kind: "Mapping", namespace: object.namespace, name: object.name),
        location: object.location, processingKey: object.processingKey, dialect: dialect,
        match: Mapping.Match(
            prefix: prefix, pathMatch: pathMatch, caseSensitive: caseSensitive, headers: headers,
            queryParameters: queryParameters,
            precedence: precedence),
        upstream: Mapping.Upstream(
            text: serviceText, service: service, location: object.location(of: serviceNode), resolver: resolver,
            resolverLocation: fields["resolver"].map { object.location(of: $0) }),
        weight: weight, weightLocation: fields["weight"].map { object.location(of: $0) },
        coreFields: Mapping.GroupCoreFields(
            prefixRegex: prefixRegex, prefixExact: prefixExact, connectTimeoutMs: connectTimeoutMs,
            idleTimeoutMs: clusterSettings.idleTimeoutMs,
            maxConnectionLifetimeMs: clusterSettings.maxConnectionLifetimeMs, keepalive: clusterSettings.keepalive,
            circuitBreakers: clusterSettings.circuitBreakers, loadBalancer: role.loadBalancer,
            ignored: hasIgnoredCoreFields
                ? Dictionary(
                    uniqueKeysWithValues: ignoredCoreFields.compactMap { key in
                        fields[key].map { (key, canonicalText($0)) }
                    }) : [:]),
        route: routeSettings, cluster: clusterSettings, role: role, labels: objectLabels(object))
}

/// `weight`: an integer from 0 to 100 (the CRD schema types it `integer`). Above 100 or below 0 is an error here
/// (Emissary would emit broken thresholds).
private func decodeWeight(_ reader: inout FieldReader) -> Int? {
    guard let node = reader.node["weight"], node.resolved != .null else { return nil }
    guard case .int(let value)? = node.resolved else {
        let text = node.scalar.map { " \"\(abbreviated($0.text))\"" } ?? ""
        let hint = if case .string(let s)? = node.resolved, Int(s.trimmingSpaces) != nil { " (unquoted)" } else { "" }
        reader.error(
            .mappingWeightNotNumber,
            "`weight` must be an integer from 0 to 100\(hint), but it is \(node.typeDescription)\(text)", at: node)
        return nil
    }
    if value > 100 {
        reader.error(.mappingWeightOutOfRange, "weight \(value) is above 100", at: node)
        return nil
    }
    if value < 0 {
        reader.error(.mappingWeightOutOfRange, "weight \(value) is below 0", at: node)
        return nil
    }
    return value
}

/// `headers`/`regex_headers` (or the query-parameter pair), each sorted by name as Emissary reads them. In the v2
/// dialect a YAML `true` means "present with any value" and becomes the regex `.*` (unless the regex map names the
/// same header), as Emissary's conversion does; a quoted "true" is an exact match on the text.
///
/// An exact `headers` entry for `:authority` is not a matcher of its own: it is the Mapping's host unless `host` or
/// `hostname` replaces it (`decodeHost`), so it comes back apart.
private func decodeMatchers(
    _ reader: inout FieldReader, exactKey: String, regexKey: String, dialect: Mapping.Dialect,
    regexes uses: inout [DecodedMapping.RegexUse]
) -> (matchers: [HeaderMatcher], authority: (value: String, node: Node)?) {
    var exact: [HeaderMatcher] = []
    var presence: [String] = []
    var authority: (value: String, node: Node)?
    // Envoy's HeaderMatcher and QueryParameterMatcher take names of 1 to 1024 bytes; a header name also may not
    // hold a line break.
    func nameProblem(_ name: String) -> String? {
        if exactKey == "headers" { return envoyHeaderNameProblem(name, maxBytes: EnvoyLimits.maxMatcherNameBytes) }
        return name.utf8.count > EnvoyLimits.maxMatcherNameBytes
            ? "a query parameter name is at most \(EnvoyLimits.maxMatcherNameBytes) bytes long" : nil
    }
    for (key, pairs) in [(exactKey, reader.entries(exactKey) ?? []), (regexKey, reader.entries(regexKey) ?? [])] {
        for (name, value) in pairs {
            if let problem = nameProblem(name) {
                reader.error(.headerNameInvalid, "`\(key)` has a name Envoy refuses: \(problem)", at: value)
            }
        }
    }
    for (name, value) in reader.entries(exactKey, sorted: true) ?? [] {
        switch value.resolved {
        case .string(let text)?:
            if exactKey == "headers", name.lowercased() == ":authority" {
                authority = (text, value)
            } else {
                exact.append(HeaderMatcher(name: name, value: .exact(text)))
            }
        case .bool(true)? where dialect == .v2:
            presence.append(name)
        case .bool(false)? where dialect == .v2:
            // Emissary's conversion drops such a matcher silently, so the Mapping would match any value: refused.
            reader.error(
                .mappingFieldType,
                "`\(exactKey).\(name)` is false: Emissary drops such a condition and the Mapping matches any value; write a string, or `true` for \"present\"",
                at: value)
        default:
            if dialect.isV3 {
                let suggestion =
                    value.resolved == .bool(true)
                    ? "; for \"present with any value\" write `\(regexKey): {\(name): \".*\"}`"
                    : value.scalar != nil ? " (quote it)" : ""
                reader.error(
                    .mappingFieldType,
                    "`\(exactKey).\(name)` must be a string in a v3alpha1 Mapping (the CRD types it map[string]string), but it is \(value.typeDescription)\(suggestion)",
                    at: value)
            } else {
                let suggestion = value.scalar != nil ? " (quote it)" : ""
                reader.error(
                    .mappingFieldType,
                    "`\(exactKey).\(name)` must be a string or `true`, but it is \(value.typeDescription)\(suggestion)",
                    at: value)
            }
        }
    }
    var regexes: [HeaderMatcher] = []
    for (name, value) in reader.entries(regexKey, sorted: true) ?? [] {
        guard let regex = reader.scalarText(value, key: "\(regexKey).\(name)") else { continue }
        checkRegex(regex, field: "`\(regexKey).\(name)`", at: value, reader: &reader, uses: &uses)
        regexes.append(HeaderMatcher(name: name, value: .regex(regex)))
    }
    for name in presence where !regexes.contains(where: { isSameKey($0.name, name) }) {
        regexes.append(HeaderMatcher(name: name, value: .regex(".*")))
    }
    regexes.sort { codePointLess($0.name, $1.name) }
    return (exact + regexes, authority)
}

/// The Mapping's one `:authority` condition, as Emissary decides it: `hostname` (a DNS glob) beats `host`, which
/// beats an exact `headers` entry for `:authority`. In the v2 dialect and in v3alpha1 resources `host` is a glob
/// too (Emissary's conversion renames it `hostname`) unless `host_regex`; and a v2 Mapping without `host` gets
/// `hostname: "*"`, which replaces a `:authority` header. nil: no host condition (a v3alpha1 Mapping naming no host
/// at all, which Attaché routes for every host; see the notice).
private func decodeHost(
    _ reader: inout FieldReader, dialect: Mapping.Dialect, authorityHeader: (value: String, node: Node)?,
    regexes: inout [DecodedMapping.RegexUse]
) -> HeaderMatcher? {
    let fields = reader.node
    let hostname = dialect.isV3 ? reader.string("hostname") : nil
    let host = reader.string("host")
    let hostIsRegex = reader.bool("host_regex") ?? false
    if let hostname {
        if let node = fields["hostname"], hostname.isEmpty {
            reader.error(.mappingFieldValue, "`hostname` is empty; write \"*\" to match every host", at: node)
        }
        if host != nil, let node = fields["host"] {
            reader.warning(
                .mappingFieldValue, "`host` is ignored: `hostname` is set and wins (as in Emissary)", at: node)
        }
        return HeaderMatcher(name: ":authority", value: .hostGlob(hostname))
    }
    if let host, hostIsRegex {
        if let node = fields["host"] { checkRegex(host, field: "`host`", at: node, reader: &reader, uses: &regexes) }
        return HeaderMatcher(name: ":authority", value: .regex(host))
    }
    if let host, !host.isEmpty {
        if dialect == .v3Annotation, host.containsBytes("*"), let node = fields["host"] {
            reader.error(
                .mappingHostWildcard,
                "`host` \"\(host)\" contains `*`: in a v3alpha1 annotation `host` is an exact match, which Emissary refuses with a `*`; use `hostname` for a glob",
                at: node)
        }
        return HeaderMatcher(name: ":authority", value: .hostGlob(host))
    }
    if dialect == .v2 {
        if let authorityHeader {
            reader.warning(
                .mappingFieldValue,
                "`headers: {\":authority\": ...}` is ignored: a v2 Mapping without `host` matches every host (Emissary's conversion sets `hostname: \"*\"`, which replaces it); use `host`",
                at: authorityHeader.node)
        }
        return HeaderMatcher(name: ":authority", value: .hostGlob("*"))
    }
    if let authorityHeader {
        if authorityHeader.value.containsBytes("*") {
            reader.error(
                .mappingHostWildcard,
                "`headers: {\":authority\": \"\(authorityHeader.value)\"}` contains `*`: an exact match, which Emissary refuses with a `*`; use `hostname` for a glob",
                at: authorityHeader.node)
        }
        return HeaderMatcher(name: ":authority", value: .hostGlob(authorityHeader.value))
    }
    guard fields["hostname"] == nil else { return nil }  // written, but not a string: already an error
    reader.note(
        .v3MappingWithoutHostname,
        "a v3alpha1 Mapping without `hostname` is routed only through a Host that selects its labels in Emissary; without any Host or Listener in the input, Attaché routes it for every host (said once)",
        at: fields)
    return nil
}

/// "did you mean `service`?" for a field one or two edits away from a known one.
private func suggestion(for key: String) -> String {
    let known = basicFields.union(policyFields).union(refusedFields.keys).union(ignoredFields.keys).sorted()
    return closestName(to: key, among: known, maximumDistance: 2).map { " (did you mean `\($0)`?)" } ?? ""
}

extension DiagnosticLog {
    mutating func add(contentsOf other: DiagnosticLog) {
        add(contentsOf: other.items)
    }

    mutating func add(contentsOf diagnostics: [Diagnostic]) {
        for item in diagnostics { add(item) }
    }
}

/// A YAML value as text that is equal exactly when the values are: scalars by resolved value, mappings by key (in
/// byte order, as Emissary's Go half hands them over), sequences in order.
private func canonicalText(_ node: Node) -> String {
    if let pairs = node.mapping {
        let entries = pairs.map { (canonicalText($0.key), canonicalText($0.value)) }.sorted { $0.0 < $1.0 }
        return "{" + entries.map { "\($0.0):\($0.1)" }.joined(separator: ",") + "}"
    }
    if let items = node.sequence { return "[" + items.map(canonicalText).joined(separator: ",") + "]" }
    return String(describing: node.resolved.map { $0 as Any } ?? node.scalarText as Any)
}
