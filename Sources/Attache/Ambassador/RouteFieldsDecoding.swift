import YAML

// The Mapping fields that shape a route beyond its match and rewrite, read as Emissary 3.10 reads them
// (ir/irhttpmapping.py, ircors.py, irretrypolicy.py, irhttpmappinggroup.py, envoy/v3/v3route.py) and checked
// against what Envoy accepts, where each is decoded.

/// What a Mapping's `shadow`, `host_redirect` and `load_balancer` make of it, beside its route settings.
public struct MappingRole: Sendable {
    /// `shadow: true`: its group's requests are copied to its service; it takes no live traffic.
    public var shadow = false
    /// `host_redirect: true`: its group answers with a redirect.
    public var redirect: Redirect?
    public var loadBalancer: LoadBalancer?
    /// `add_linkerd_headers` as written (nil: the Module's).
    public var addLinkerdHeaders: Bool?

    public init() {}
}

extension FieldReader {
    /// The route fields of a Mapping: `auto_host_rewrite`, `regex_rewrite`, `allow_upgrade` / `use_websocket`,
    /// `retry_policy`, `cors`, into `settings`; `shadow`, the redirect fields, `load_balancer` and
    /// `add_linkerd_headers` into the returned role.
    mutating func routeFields(
        into settings: inout RouteSettings, service: String?, regexes: inout [DecodedMapping.RegexUse]
    ) -> MappingRole {
        var role = MappingRole()
        settings.autoHostRewrite = bool("auto_host_rewrite")
        if settings.autoHostRewrite == true, has("host_rewrite"), let node = node["auto_host_rewrite"] {
            // One of Envoy's `host_rewrite_specifier`: Emissary writes both, and Envoy refuses the whole config.
            error(
                .mappingFieldValue,
                "`auto_host_rewrite` and `host_rewrite` cannot both be used: Envoy takes one way to rewrite the Host and refuses the whole config otherwise",
                at: node)
        }
        if let rewrite = regexRewrite("regex_rewrite", regexes: &regexes) {
            settings.regexRewrite = rewrite
            if let node = node["rewrite"], let text = node.scalarText, text != "/" {
                warning(
                    .mappingFieldValue,
                    "both `rewrite` and `regex_rewrite` are set: `regex_rewrite` is used and `rewrite` ignored, as in Emissary",
                    at: node)
            }
        }
        settings.upgrades = upgrades()
        settings.retryPolicy = retryPolicy("retry_policy")
        settings.cors = corsPolicy("cors")
        settings.bypassAuth = bool("bypass_auth") ?? false
        settings.authContextExtensions = authContextExtensions()
        role.loadBalancer = loadBalancer("load_balancer")
        role.addLinkerdHeaders = bool("add_linkerd_headers")
        role.shadow = bool("shadow") ?? false
        role.redirect = redirect(service: service, shadow: role.shadow, regexes: &regexes)
        return role
    }

    /// `{pattern, substitution}`: the pattern a non-empty RE2 regex (Envoy refuses an empty one).
    mutating func regexRewrite(_ key: String, regexes: inout [DecodedMapping.RegexUse]) -> RegexRewrite? {
        nested(key) { reader -> RegexRewrite? in
            let pattern = reader.string("pattern") ?? ""
            let substitution = reader.string("substitution") ?? ""
            let at = reader.node["pattern"] ?? reader.node
            if pattern.isEmpty {
                reader.error(
                    .regexInvalid, "`\(reader.path)pattern` is missing or empty; Envoy refuses an empty regex", at: at)
                return nil
            }
            checkRegex(pattern, field: "`\(reader.path)pattern`", at: at, reader: &reader, uses: &regexes)
            if let problem = envoySubstitutionProblem(substitution), let node = reader.node["substitution"] {
                reader.error(.headerValueInvalid, "`\(reader.path)substitution` \(problem)", at: node)
            }
            return RegexRewrite(pattern: pattern, substitution: substitution)
        } ?? nil
    }

    /// `allow_upgrade: [websocket, ...]`, and `use_websocket`, which Emissary turns into `websocket` in that list
    /// whenever the field is there, even `use_websocket: false`.
    mutating func upgrades() -> [String]? {
        var list = stringList("allow_upgrade", singleStringAllowed: false)
        if let value = node["use_websocket"], value.resolved != .null {
            let flag = bool("use_websocket")
            if flag == false {
                warning(
                    .mappingFieldValue,
                    "`use_websocket: false` still allows websocket upgrades in Emissary (it looks only at whether the field is there); remove the field to refuse them",
                    at: value)
            }
            if flag != nil, !(list ?? []).contains(where: { $0.lowercased() == "websocket" }) {
                list = (list ?? []) + ["websocket"]
            }
        }
        if let list, let node = node["allow_upgrade"] {
            for name in list where name.isEmpty || envoyHeaderValueProblem(name) != nil {
                error(.mappingFieldValue, "`allow_upgrade` names an empty or invalid protocol \"\(name)\"", at: node)
            }
        }
        return list
    }

    /// `retry_policy: {retry_on, num_retries, per_try_timeout}`; `retry_on` is required (Emissary refuses the
    /// Mapping without one of its values).
    mutating func retryPolicy(_ key: String) -> RetryPolicy? {
        nested(key) { reader -> RetryPolicy? in
            let allowed = [
                "5xx", "gateway-error", "connect-failure", "retriable-4xx", "refused-stream", "retriable-status-codes",
            ]
            guard let retryOn = reader.string("retry_on"), allowed.contains(retryOn) else {
                reader.error(
                    .mappingFieldValue,
                    "`\(reader.path)retry_on` must be one of \(allowed.joined(separator: ", ")); Emissary refuses the Mapping otherwise",
                    at: reader.node["retry_on"] ?? reader.node)
                return nil
            }
            let perTryTimeout = reader.duration("per_try_timeout")
            return RetryPolicy(
                retryOn: retryOn, numRetries: reader.integer("num_retries", range: 0...Int(UInt32.max)),
                perTryTimeout: perTryTimeout)
        } ?? nil
    }

    /// A duration written as Envoy's JSON reads it: seconds with up to nine decimals and an `s` (`"0.25s"`).
    mutating func duration(_ key: String) -> String? {
        guard let text = string(key), let node = node[key] else { return nil }
        let digits = text.dropLast()
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        let valid =
            text.hasSuffix("s") && (1...2).contains(parts.count) && !parts[0].isEmpty
            && parts.allSatisfy { $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
            && (parts.count == 1 || (1...9).contains(parts[1].count)) && parts[0].count <= 12
        guard valid else {
            error(
                .durationOutOfRange,
                "`\(path)\(key)` must be a duration in seconds such as \"0.5s\", but it is \"\(abbreviated(text))\"",
                at: node)
            return nil
        }
        return text
    }

    /// `cors`: origins (a list, or in v2 a comma-separated string), methods, headers and exposed headers (lists
    /// or strings, joined with ", " as Emissary does), `max_age` and `credentials`.
    mutating func corsPolicy(_ key: String) -> CORSPolicy? {
        nested(key) { reader in
            func joined(_ field: String) -> String? {
                guard let value = reader.node[field], value.resolved != .null else { return nil }
                guard let list = reader.stringList(field) else { return nil }
                let text = list.joined(separator: ", ")
                if let problem = envoyHeaderValueProblem(text) {
                    reader.error(
                        .headerValueInvalid, "`\(reader.path)\(field)` becomes a header, but \(problem)", at: value)
                }
                return text
            }
            var origins: [String]?
            if let value = reader.node["origins"], value.resolved != .null {
                if value.sequence == nil, let text = reader.string("origins") {
                    origins = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                } else {
                    origins = reader.stringList("origins", singleStringAllowed: false)
                }
            }
            let maxAge = reader.string("max_age")
            if let maxAge, let node = reader.node["max_age"], let problem = envoyHeaderValueProblem(maxAge) {
                reader.error(.headerValueInvalid, "`\(reader.path)max_age` becomes a header, but \(problem)", at: node)
            }
            return CORSPolicy(
                origins: origins, methods: joined("methods"), headers: joined("headers"),
                exposedHeaders: joined("exposed_headers"), maxAge: maxAge, credentials: reader.bool("credentials"))
        }
    }

    /// `load_balancer`, valid as Emissary's `validate_load_balancer` says: round_robin and least_request alone;
    /// ring_hash and maglev with exactly one of `cookie` (with a name), `header` or `source_ip`. Anything else
    /// refuses the Mapping, as in Emissary.
    mutating func loadBalancer(_ key: String) -> LoadBalancer? {
        nested(key) { reader -> LoadBalancer? in
            let policy = reader.string("policy") ?? ""
            let keys = Set((reader.node.mapping ?? []).compactMap { $0.key.scalarText })
            func refuse(_ why: String) -> LoadBalancer? {
                reader.error(
                    .mappingFieldValue,
                    "`\(reader.path.dropLast())` is not valid: \(why); Emissary refuses the Mapping",
                    at: reader.node)
                return nil
            }
            switch policy {
            case "round_robin", "least_request":
                guard keys == ["policy"] else { return refuse("\(policy) takes no other field") }
                return LoadBalancer(policy: policy, hash: nil)
            case "ring_hash", "maglev":
                guard keys.count == 2 else {
                    return refuse("\(policy) needs exactly one of `cookie`, `header` or `source_ip`")
                }
                if keys.contains("cookie") {
                    let cookie = reader.nested("cookie") { cookie -> HashPolicy? in
                        guard let name = cookie.string("name") else { return nil }
                        return .cookie(name: name, path: cookie.string("path"), ttl: cookie.duration("ttl"))
                    }
                    guard let hash = cookie ?? nil else { return refuse("`cookie` needs a `name`") }
                    return LoadBalancer(policy: policy, hash: hash)
                }
                if keys.contains("header"), let header = reader.string("header") {
                    if let problem = envoyHeaderNameProblem(header), let node = reader.node["header"] {
                        reader.error(.headerNameInvalid, "`\(reader.path)header` \"\(header)\": \(problem)", at: node)
                    }
                    return LoadBalancer(policy: policy, hash: .header(header.lowercased()))
                }
                if keys.contains("source_ip"), let flag = reader.bool("source_ip") {
                    // Emissary writes `connection_properties: {source_ip: false}` as given; Envoy then hashes
                    // nothing, which is round robin in effect.
                    return LoadBalancer(policy: policy, hash: flag ? .sourceIP : nil)
                }
                return refuse("\(policy) needs exactly one of `cookie`, `header` or `source_ip`")
            default:
                return refuse("`policy` must be round_robin, least_request, ring_hash or maglev")
            }
        } ?? nil
    }

    /// `host_redirect: true` with `path_redirect`, `prefix_redirect` or `regex_redirect` and
    /// `redirect_response_code`: the Location's host is the Mapping's `service` (filled in when routing). The path
    /// fields mean nothing without `host_redirect`; of several, Emissary keeps path over prefix over regex.
    mutating func redirect(service: String?, shadow: Bool, regexes: inout [DecodedMapping.RegexUse]) -> Redirect? {
        let isRedirect = bool("host_redirect") ?? false
        let pathFields = ["path_redirect", "prefix_redirect", "regex_redirect", "redirect_response_code"]
        guard isRedirect, !shadow else {
            if isRedirect, let node = node["host_redirect"] {
                warning(
                    .mappingFieldValue,
                    "`host_redirect` and `shadow` are both set: the Mapping is a shadow and the redirect is ignored, as in Emissary",
                    at: node)
            }
            for field in pathFields where has(field) {
                warning(.mappingFieldValue, "`\(field)` is ignored without `host_redirect: true`", at: node[field]!)
            }
            return nil
        }
        if bool("host_regex") == true, let node = node["host_redirect"] {
            // Emissary attaches a redirect group to a Host by its host glob alone; a regex host has none, so the
            // redirect never routes there. Refused rather than routed where Emissary would not.
            error(
                .mappingFieldValue,
                "a redirect with a regex `host` (`host_regex: true`) never routes in Emissary (it matches Hosts by a host glob); use a glob `host` or `hostname`",
                at: node)
        }
        for field in ["query_parameters", "regex_query_parameters"] where has(field) {
            warning(
                .mappingFieldValue,
                "`\(field)` is ignored on a redirect, as Emissary ignores it (its redirect route matches by path and headers alone)",
                at: node[field]!)
        }
        for field in [
            "add_request_headers", "add_response_headers", "remove_request_headers", "remove_response_headers",
        ]
        where has(field) {
            warning(.mappingFieldValue, "`\(field)` is ignored on a redirect, as Emissary ignores it", at: node[field]!)
        }
        if let service, service.contains("://"), let node = node["service"] {
            error(
                .serviceInvalid,
                "a redirect's `service` is the host (and port) to send the client to, not a URL: \"\(service)\" would become the Location's host",
                at: node)
        }
        var redirect = Redirect(host: "", path: string("path_redirect"), prefix: string("prefix_redirect"))
        redirect.regex = regexRewrite("regex_redirect", regexes: &regexes)
        for (field, value) in [("path_redirect", redirect.path), ("prefix_redirect", redirect.prefix)] {
            if let value, let node = node[field], let problem = envoyHeaderValueProblem(value) {
                error(.headerValueInvalid, "`\(field)` becomes the Location's path, but \(problem)", at: node)
            }
        }
        let present = [
            ("path_redirect", redirect.path != nil), ("prefix_redirect", redirect.prefix != nil),
            ("regex_redirect", redirect.regex != nil),
        ].filter(\.1).map(\.0)
        if present.count > 1, let node = node[present[1]] {
            warning(
                .mappingFieldValue,
                "`\(present[0])` and `\(present.dropFirst().joined(separator: "` and `"))` cannot be used together: `\(present[0])` is used, as in Emissary",
                at: node)
        }
        switch present.first {
        case "path_redirect":
            redirect.prefix = nil
            redirect.regex = nil
        case "prefix_redirect": redirect.regex = nil
        default: break
        }
        if let code = integer("redirect_response_code"), let node = node["redirect_response_code"] {
            if [301, 302, 303, 307, 308].contains(code) {
                redirect.responseCode = code
            } else {
                error(
                    .mappingFieldValue, "`redirect_response_code` must be 301, 302, 303, 307 or 308, but it is \(code)",
                    at: node)
            }
        }
        return redirect
    }
}

/// Why Envoy would refuse `substitution` in a regex rewrite: it is a path, so no line breaks or NUL.
private func envoySubstitutionProblem(_ substitution: String) -> String? {
    envoyHeaderValueProblem(substitution).map { "becomes part of the path, but \($0)" }
}

extension FieldReader {
    /// `auth_context_extensions`: names to strings, sent with each authorization check (Envoy's
    /// `check_settings.context_extensions`).
    mutating func authContextExtensions() -> [String: String]? {
        guard let pairs = entries("auth_context_extensions", sorted: true) else { return nil }
        var result: [String: String] = [:]
        for (name, valueNode) in pairs {
            guard let value = scalarText(valueNode, key: "auth_context_extensions.\(name)") else { continue }
            result[name] = value
        }
        return result.isEmpty ? nil : result
    }
}
