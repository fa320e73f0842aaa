import Foundation
import YAML

/// Fields Attaché reads from a Mapping (SEMANTICS.md §2) plus the bookkeeping fields of annotation documents.
private let understoodFields: Set<String> = [
    "apiVersion", "kind", "name", "namespace", "metadata", "metadata_labels", "ambassador_id", "ambassadorId", "generation",
    "prefix", "prefix_regex", "prefix_exact", "rewrite", "service", "weight", "headers", "regex_headers",
    "query_parameters", "regex_query_parameters", "host", "host_regex", "hostname", "method", "method_regex",
    "precedence", "case_sensitive", "timeout_ms", "idle_timeout_ms", "connect_timeout_ms", "host_rewrite",
    "add_request_headers", "add_response_headers", "remove_request_headers", "remove_response_headers", "resolver",
]

/// Mapping fields Emissary knows and Attaché does not implement yet: warned about and ignored, so that the rest
/// of the Mapping still routes.
private let unsupportedFields: Set<String> = [
    "add_linkerd_headers", "allow_upgrade", "auth_context_extensions", "auto_host_rewrite", "bypass_auth",
    "bypass_error_response_overrides", "circuit_breakers", "cluster_idle_timeout_ms", "cluster_max_connection_lifetime_ms",
    "cluster_tag", "cors", "dns_type", "docs", "enable_ipv4", "enable_ipv6", "envoy_override", "error_response_overrides",
    "grpc", "health_checks", "host_redirect", "keepalive", "labels", "load_balancer", "modules", "outlier_detection",
    "path_redirect", "prefix_redirect", "priority", "rate_limits", "redirect_response_code", "regex_redirect",
    "regex_rewrite", "respect_dns_ttl", "retry_policy", "shadow", "stats_name", "tls", "use_websocket", "v3StatsName",
    "v3health_checks",
]

/// Stage: one Mapping object → a checked `Mapping`, or nil when it must be rejected. Problems go to `log`.
func decodeMapping(_ object: KubernetesObject, regexMaxSize: Int = AmbassadorDefaults.regexMaxProgramSize, log: inout DiagnosticLog) -> Mapping? {
    var reader = FieldReader(object: object)
    let fields = reader.node
    guard fields.mapping != nil else {
        reader.error(.documentNotMapping, "the Mapping's spec must be a mapping, but it is \(fields.typeDescription)", at: fields)
        log.add(contentsOf: reader.log)
        return nil
    }
    let isV3 = object.apiVersion.hasSuffix("/v3alpha1")

    for pair in fields.mapping ?? [] {
        guard case .string(let key)? = pair.key.resolved else {
            reader.warning(.mappingUnsupportedField, "a field name must be a string, but this one is \(pair.key.typeDescription); ignored", at: pair.key)
            continue
        }
        guard !understoodFields.contains(key) else { continue }
        if unsupportedFields.contains(key) {
            reader.warning(.mappingUnsupportedField, "`\(key)` is not supported by Attaché yet and is ignored", at: pair.key)
        } else {
            reader.warning(.mappingUnsupportedField, "unknown field `\(abbreviated(key))` is ignored\(suggestion(for: key))", at: pair.key)
        }
    }

    // Path match.
    let prefix = reader.string("prefix", required: true)
    if let prefix, let node = fields["prefix"] {
        if prefix.isEmpty {
            reader.error(.mappingFieldValue, "`prefix` is empty; write `/` to match every path", at: node)
        } else if prefix.containsBytes("{{") {
            reader.error(.unrenderedTemplate, "`prefix` contains template text \"\(prefix)\": the manifest was not rendered (run helm template first)", at: node)
        }
    }
    let isRegex = reader.bool("prefix_regex") ?? false
    let isExact = reader.bool("prefix_exact") ?? false
    if isRegex && isExact, let node = fields["prefix_exact"] {
        reader.error(.mappingFieldValue, "`prefix_regex` and `prefix_exact` cannot both be true", at: node)
    }
    let pathMatch: Mapping.PathMatch = isRegex ? .regex : (isExact ? .exact : .prefix)
    if let prefix, !prefix.isEmpty, let node = fields["prefix"] {
        if pathMatch == .regex {
            if let problem = RE2Check.problem(in: prefix, maxProgramSize: regexMaxSize) {
                reader.error(.mappingFieldValue, "`prefix` is not a valid RE2 regex: \(problem)", at: node)
            }
        } else if !prefix.hasPrefix("/"), !prefix.containsBytes("{{") {
            reader.warning(.mappingFieldValue, "`prefix` \"\(prefix)\" does not start with `/`, so no request path matches it", at: node)
        }
    }
    let caseSensitive = reader.bool("case_sensitive") ?? true
    let rewrite: String = reader.has("rewrite") ? (reader.string("rewrite") ?? "/") : "/"

    // Service.
    var service: ServiceReference?
    let serviceText = reader.string("service", required: true)
    if let text = serviceText, let node = fields["service"] {
        switch parseServiceReference(text) {
        case .success(let parsed):
            service = parsed.reference
            if parsed.droppedPath {
                reader.warning(.serviceInvalid, "`service` \"\(text)\" has a path; Ambassador ignores it (use `rewrite` to change the path)", at: node)
            }
        case .failure(let problem):
            reader.error(problem.code, problem.message, at: node)
        }
    }

    // Weight.
    let weight = decodeWeight(&reader)

    // Header and query matchers, in Emissary's order.
    var headers = decodeMatchers(&reader, exactKey: "headers", regexKey: "regex_headers", regexMaxSize: regexMaxSize)
    let queryParameters = decodeMatchers(&reader, exactKey: "query_parameters", regexKey: "regex_query_parameters", regexMaxSize: regexMaxSize)

    if let hostname = reader.string("hostname") {
        if let node = fields["hostname"], hostname.isEmpty {
            reader.error(.mappingFieldValue, "`hostname` is empty; write \"*\" to match every host", at: node)
        }
        headers.append(HeaderMatcher(name: ":authority", value: .hostGlob(hostname.lowercased())))
    } else if let host = reader.string("host") {
        let hostIsRegex = reader.bool("host_regex") ?? false
        if !hostIsRegex, host.containsBytes("*"), let node = fields["host"] {
            reader.error(.mappingHostWildcard, "`host` \"\(host)\" contains `*`; `host` is an exact match, use `hostname` for a glob", at: node)
        }
        if hostIsRegex, let node = fields["host"], let problem = RE2Check.problem(in: host, maxProgramSize: regexMaxSize) {
            reader.error(.mappingFieldValue, "`host` is not a valid RE2 regex: \(problem)", at: node)
        }
        headers.append(HeaderMatcher(name: ":authority", value: hostIsRegex ? .regex(host) : .exact(host.lowercased())))
    } else {
        if isV3 {
            reader.note(.v3MappingWithoutHostname, "a v3alpha1 Mapping without `hostname` is routed only through a Host in Emissary; Attaché has no Host support yet and treats every such Mapping as hostname \"*\" (said once)", at: fields)
        }
        headers.append(HeaderMatcher(name: ":authority", value: .hostGlob("*")))
    }
    if let method = reader.string("method") {
        let methodIsRegex = reader.bool("method_regex") ?? false
        if methodIsRegex, let node = fields["method"], let problem = RE2Check.problem(in: method, maxProgramSize: regexMaxSize) {
            reader.error(.mappingFieldValue, "`method` is not a valid RE2 regex: \(problem)", at: node)
        }
        headers.append(HeaderMatcher(name: ":method", value: methodIsRegex ? .regex(method) : .exact(method.uppercased())))
    }

    let precedence = reader.integer("precedence") ?? 0
    let timeoutMs = reader.integer("timeout_ms", range: 0...86_400_000)
    let idleTimeoutMs = reader.integer("idle_timeout_ms", range: 0...86_400_000)
    let connectTimeoutMs = reader.integer("connect_timeout_ms", range: 1...86_400_000)
    let hostRewrite = reader.string("host_rewrite")
    let addRequestHeaders = reader.headerAdditions("add_request_headers")
    let addResponseHeaders = reader.headerAdditions("add_response_headers")
    let removeRequestHeaders = reader.stringList("remove_request_headers")
    let removeResponseHeaders = reader.stringList("remove_response_headers")
    let resolver = reader.string("resolver")

    log.add(contentsOf: reader.log)
    guard reader.isValid, let prefix, let service, let serviceText, let serviceNode = fields["service"] else { return nil }
    return Mapping(
        reference: ObjectReference(kind: "Mapping", namespace: object.namespace, name: object.name),
        location: object.location, processingKey: object.processingKey, isV3: isV3,
        prefix: prefix, pathMatch: pathMatch, caseSensitive: caseSensitive, rewrite: rewrite,
        serviceText: serviceText, service: service, serviceLocation: object.location(of: serviceNode),
        weight: weight, weightLocation: fields["weight"].map { object.location(of: $0) },
        headers: headers, queryParameters: queryParameters, precedence: precedence,
        timeoutMs: timeoutMs, idleTimeoutMs: idleTimeoutMs, connectTimeoutMs: connectTimeoutMs,
        hostRewrite: hostRewrite, addRequestHeaders: addRequestHeaders, addResponseHeaders: addResponseHeaders,
        removeRequestHeaders: removeRequestHeaders, removeResponseHeaders: removeResponseHeaders, resolver: resolver,
        resolverLocation: fields["resolver"].map { object.location(of: $0) })
}

/// `weight`: a number from 0 to 100. Emissary rounds it (half to even); above 100, below 0 or not a number is
/// an error here (Emissary would emit broken thresholds).
private func decodeWeight(_ reader: inout FieldReader) -> Int? {
    guard let node = reader.node["weight"], node.resolved != .null else { return nil }
    let value: Double
    switch node.resolved {
    case .int(let i)?: value = Double(i)
    case .float(let d)?: value = d
    case .string(let s)?:
        guard let d = Double(s.trimmingSpaces), !s.isEmpty else {
            reader.error(.mappingWeightNotNumber, "`weight` must be a number from 0 to 100, but it is \"\(s)\"", at: node)
            return nil
        }
        value = d
    default:
        reader.error(.mappingWeightNotNumber, "`weight` must be a number from 0 to 100, but it is \(node.typeDescription)", at: node)
        return nil
    }
    if value.isNaN {
        reader.error(.mappingWeightNotNumber, "`weight` must be a number from 0 to 100, but it is NaN", at: node)
        return nil
    }
    if value > 100 {
        reader.error(.mappingWeightOutOfRange, "weight \(node.scalar?.text ?? "") is above 100", at: node)
        return nil
    }
    if value < 0 {
        reader.error(.mappingWeightOutOfRange, "weight \(node.scalar?.text ?? "") is below 0", at: node)
        return nil
    }
    return Int(value.rounded(.toNearestOrEven))
}

/// `headers`/`regex_headers` (or the query-parameter pair). A YAML `true` means "present with any value" and
/// becomes the regex `.*`, as in Emissary; a quoted "true" is an exact match on the text.
private func decodeMatchers(_ reader: inout FieldReader, exactKey: String, regexKey: String, regexMaxSize: Int) -> [HeaderMatcher] {
    var result: [HeaderMatcher] = []
    for (name, value) in reader.entries(exactKey) ?? [] {
        switch value.resolved {
        case .bool(true)?:
            result.append(HeaderMatcher(name: name, value: .regex(".*")))
        case .string(let s)?:
            result.append(HeaderMatcher(name: name, value: .exact(s)))
        case .int?, .float?:
            result.append(HeaderMatcher(name: name, value: .exact(value.scalar?.text ?? "")))
        default:
            reader.error(.mappingFieldType, "`\(exactKey).\(name)` must be a string or `true`, but it is \(value.typeDescription)", at: value)
        }
    }
    for (name, value) in reader.entries(regexKey) ?? [] {
        guard let regex = reader.scalarText(value, key: "\(regexKey).\(name)") else { continue }
        if let problem = RE2Check.problem(in: regex, maxProgramSize: regexMaxSize) {
            reader.error(.mappingFieldValue, "`\(regexKey).\(name)` is not a valid RE2 regex: \(problem)", at: value)
            continue
        }
        result.append(HeaderMatcher(name: name, value: .regex(regex)))
    }
    return result
}

/// "did you mean `service`?" for a field one or two edits away from a known one.
private func suggestion(for key: String) -> String {
    // Edit distance is quadratic in the key's length; a typo is short, a hostile key need not be.
    guard key.utf8.count <= 40 else { return "" }
    let candidates = understoodFields.sorted().filter { editDistance($0, key) <= 2 }
    guard let best = candidates.min(by: { editDistance($0, key) < editDistance($1, key) }) else { return "" }
    return " (did you mean `\(best)`?)"
}

/// Levenshtein distance, for suggestions only.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.utf8), b = Array(b.utf8)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

extension DiagnosticLog {
    mutating func add(contentsOf other: DiagnosticLog) {
        add(contentsOf: other.items)
    }

    mutating func add(contentsOf diagnostics: [Diagnostic]) {
        for item in diagnostics { add(item) }
    }
}
