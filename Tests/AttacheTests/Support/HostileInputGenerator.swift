import Foundation

/// Generates Kubernetes documents full of values that are plausible but hostile to Envoy: every Mapping field, every
/// YAML type, empty and huge strings, unicode, control characters, reserved header names, `%` in header values, odd
/// regexes, numbers at the edges of Envoy's ranges, odd service addresses and endpoint IPs. Documents are written as
/// JSON (a subset of YAML) so that any string survives escaping.
///
/// Used by EnvoyAcceptsPropertyTests: whatever Attaché writes for them, Envoy must accept.
struct HostileInputGenerator {
    /// A generated Mapping Attaché must either route or name in a diagnostic.
    struct GeneratedMapping: Hashable {
        var namespace: String
        var name: String
    }

    private(set) var random: SeededRandom
    private(set) var mappings: [GeneratedMapping] = []
    /// How often a value has a type other than the field's: 0 for about half of the Mappings (hostile values of
    /// the right types, most of which must route), 0.3 for the others.
    private var typeNoise = 0.3

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    static let strings: [String] = [
        "a", "", String(repeating: "x", count: 300), String(repeating: "y", count: 17_000), "é", "日本語", "😀",
        "\u{0}", "a\u{0}b", "\n", "a\nb", "\r\n", "a\rb", "a\tb", " ", "%", "50% off", "%%", "%REQ(x-a)%", "%REQ%",
        "%START_TIME(%s)%", "%UNKNOWN%", "%REQ(x", "%REQ(x-a):5%", "%PROTOCOL:5%", "%PROTOCOL%", "%req(x)%",
        "%DOWNSTREAM_REMOTE_ADDRESS%", "%UPSTREAM_METADATA([\"a\", \"b\"])%", "%REQ()%", "\\", "\"", "{{ .Values.x }}",
        "*", "**", "*.", ".*", "a.*", "(?=x)", "(a)\\1", "[", "a{1001}", "\\p{Greek}", "(?i)abc", "/", "/a/", "//",
        "/a b/", "?", "#", ":path", ":authority", "host", "Host", ":status", "content-length", "x-a", "X-A", "a b",
        "ä", "a:b", "-1", "0", "true", "null", "~", "https://", "svc:", ":80",
    ]
    static let headerNames: [String] = [
        "x-a", "X-Mixed", "gray", "", ":authority", ":path", ":method", ":status", "host", "Host", "a b", "a\nb", "ä",
        String(repeating: "h", count: 1025), String(repeating: "h", count: 1024), "x-a\r", "content-type", "%",
    ]
    static let regexes: [String] = [
        ".*", "", "a.*", "^/api/[0-9]+$", "(?=x)", "(?<=x)y", "(a)\\1", "[", "a{1001}", "a{1000}", "\\p{Greek}",
        "(?i)abc", "(?P<n>a)", "x**", String(repeating: "a", count: 250), String(repeating: "(a|b)", count: 60), "é+",
    ]
    static let hosts: [String] = [
        "*", "*.example.com", "shop.*", "**", "*.", "exact.example.com", "", "a\nb", "ä.example", "EXAMPLE.com",
        String(repeating: "h", count: 300), "a b", "*foo*", "foo*bar",
    ]
    static let services: [String] = [
        "svc", "svc:8080", "svc.ns:80", "http://svc", "https://svc:8443", "10.0.0.1", "10.0.0.1:9000", "[fd00::1]:80",
        "[1:2:3]", "[fd00::1", "svc:0", "svc:99999", "svc:http", "a_b.c-d", String(repeating: "s", count: 300),
        "svc svc", "svc/path", "HTTPS://UPPER", "ftp://svc", "", "999.1.1.1", "1.2.3", "::1",
    ]
    static let durations: [String] = [
        "0.5s", "1s", "-1s", "abc", "1.1234567891s", "1.123456789s", "99999999999999s", "",
    ]

    static let numbers: [String] = [
        "20", "0", "-1", "1", "100", "101", "2147483647", "2147483648", "9223372036854775807", "-9223372036854775808",
        "9223372035999", "9223372036000", "0.5", "1e309", "3000",
    ]

    /// An item of `pool`: for a well-typed Mapping often the first (each pool starts with a value Envoy takes), so
    /// that the hostile values around it reach Envoy instead of getting the Mapping refused.
    mutating func pick<T>(_ pool: [T]) -> T {
        if typeNoise == 0, random.chance(0.4) { return pool[0] }
        return random.pick(pool)
    }

    /// Any JSON value, biased to the given plausible ones.
    mutating func value(plausible: [String]) -> String {
        if !random.chance(typeNoise) { return pick(plausible) }
        switch Int.random(in: 0..<6, using: &random) {
        case 0: return json(random.pick(Self.strings))
        case 1: return random.pick(Self.numbers)
        case 2: return random.pick(["true", "false"])
        case 3: return "null"
        case 4: return "[\(json(random.pick(Self.strings)))]"
        default: return map(names: Self.headerNames) { $0.json($0.random.pick(Self.strings)) }
        }
    }

    func strings(_ pool: [String]) -> [String] { pool.map(json) }

    mutating func map(names: [String], values: (inout Self) -> String) -> String {
        let count = Int.random(in: 1...3, using: &random)
        var entries: [String] = []
        for _ in 0..<count {
            let name = json(pick(names))
            // YAML allows implicit keys of at most 1024 characters; a longer one needs an explicit `?` key.
            entries.append("\(name.count > 1000 ? "? " : "")\(name): \(values(&self))")
        }
        return "{" + entries.joined(separator: ", ") + "}"
    }

    /// The spec of one Mapping, as JSON object members.
    mutating func mappingFields() -> [String] {
        typeNoise = random.chance(0.5) ? 0 : 0.3
        var fields: [String] = []
        let isRegex = random.chance(0.15)
        fields.append(
            "\"prefix\": "
                + (isRegex
                    ? json(random.pick(Self.regexes)) : value(plausible: strings(["/", "/a/", "/api/", "/x/y", "a"]))))
        if isRegex { fields.append("\"prefix_regex\": " + value(plausible: ["true"])) }
        if random.chance(0.08) { fields.append("\"prefix_exact\": " + value(plausible: ["true", "false"])) }
        fields.append("\"service\": " + value(plausible: strings(Self.services)))
        let optional = [
            "weight", "rewrite", "headers", "regex_headers", "query_parameters", "regex_query_parameters", "host",
            "host_regex", "hostname", "method", "method_regex", "precedence", "case_sensitive", "timeout_ms",
            "idle_timeout_ms", "connect_timeout_ms", "host_rewrite", "add_request_headers", "add_response_headers",
            "remove_request_headers", "remove_response_headers", "resolver", "grpc", "dns_type", "respect_dns_ttl",
            "enable_ipv4", "enable_ipv6", "cluster_idle_timeout_ms", "cluster_max_connection_lifetime_ms", "keepalive",
            "circuit_breakers", "load_balancer", "retry_policy", "cors", "regex_rewrite", "auto_host_rewrite",
            "allow_upgrade", "use_websocket", "shadow", "host_redirect", "path_redirect", "prefix_redirect",
            "regex_redirect", "redirect_response_code", "add_linkerd_headers",
        ]
        // The first fields each in one Mapping of ten; the later ones rarer, so that most Mappings still route.
        for (index, name) in optional.enumerated() where random.chance(index < 22 ? 0.1 : 0.015) {
            fields.append("\(json(name)): \(fieldValue(name))")
        }
        return fields
    }

    /// A value for one optional Mapping field.
    mutating func fieldValue(_ name: String) -> String {
        switch name {
        case "weight": return value(plausible: ["0", "10", "20", "50", "100", "101", "-1", "0.5", "\"30\""])
        case "rewrite": return value(plausible: strings(["/", "", "/new/", "a\nb", "%", "x"]))
        case "headers":
            // "a" first
            return map(names: Self.headerNames) { $0.value(plausible: $0.strings(Self.strings) + ["true", "false"]) }
        case "regex_headers": return map(names: Self.headerNames) { $0.json($0.pick(Self.regexes)) }
        case "query_parameters":
            return map(names: ["q", "", String(repeating: "q", count: 1025)]) {
                $0.value(plausible: $0.strings(Self.strings))
            }
        case "regex_query_parameters": return map(names: ["q", ""]) { $0.json($0.pick(Self.regexes)) }
        case "host", "hostname": return value(plausible: strings(Self.hosts))
        case "host_regex", "method_regex", "case_sensitive": return value(plausible: ["true", "false"])
        case "method": return value(plausible: strings(["GET", "get", "POST", "P.*", "(?=x)", "", "a\nb"]))
        case "precedence", "timeout_ms", "idle_timeout_ms", "connect_timeout_ms": return value(plausible: Self.numbers)
        case "host_rewrite": return value(plausible: strings(Self.strings))
        case "add_request_headers", "add_response_headers": return headerAdditions()
        case "remove_request_headers":
            let count = Int.random(in: 1...3, using: &random)
            return "[" + (0..<count).map { _ in json(random.pick(Self.headerNames)) }.joined(separator: ", ") + "]"
        case "remove_response_headers": return value(plausible: strings(Self.headerNames))
        case "resolver": return value(plausible: strings(["endpoint", "kubernetes-service", "nope", ""]))
        case "grpc", "respect_dns_ttl", "enable_ipv4", "enable_ipv6", "auto_host_rewrite", "use_websocket", "shadow",
            "host_redirect", "add_linkerd_headers":
            return value(plausible: ["true", "false"])
        case "dns_type": return value(plausible: strings(["strict_dns", "logical_dns", "LOGICAL_DNS", "x", ""]))
        case "cluster_idle_timeout_ms", "cluster_max_connection_lifetime_ms": return value(plausible: Self.numbers)
        case "keepalive":
            return
                "{\"idle_time\": \(pick(Self.numbers)), \"interval\": \(pick(Self.numbers)), \"probes\": \(pick(Self.numbers))}"
        case "circuit_breakers":
            let priority = value(plausible: strings(["default", "high", "HIGH", "urgent"]))
            return
                "[{\"priority\": \(priority), \"max_connections\": \(pick(Self.numbers)), \"max_retries\": \(pick(Self.numbers))}]"
        case "load_balancer":
            let policy = value(plausible: strings(["round_robin", "least_request", "ring_hash", "maglev", "random"]))
            let extra = pick([
                "", ", \"header\": \(json(random.pick(Self.headerNames)))", ", \"source_ip\": true",
                ", \"cookie\": {\"name\": \(json(random.pick(Self.strings))), \"ttl\": \(json(random.pick(Self.durations)))}",
            ])
            return "{\"policy\": \(policy)\(extra)}"
        case "retry_policy":
            let on = value(plausible: strings(["5xx", "gateway-error", "connect-failure", "always", ""]))
            return
                "{\"retry_on\": \(on), \"num_retries\": \(pick(Self.numbers)), \"per_try_timeout\": \(json(random.pick(Self.durations)))}"
        case "cors":
            return
                "{\"origins\": [\(json(random.pick(Self.strings)))], \"methods\": \(value(plausible: strings(["GET", "GET, POST", "a\nb"]))), \"headers\": \(json(random.pick(Self.strings))), \"max_age\": \(json(random.pick(Self.strings))), \"credentials\": \(value(plausible: ["true", "false"]))}"
        case "regex_rewrite", "regex_redirect":
            return
                "{\"pattern\": \(json(random.pick(Self.regexes))), \"substitution\": \(json(random.pick(Self.strings)))}"
        case "allow_upgrade": return "[\(json(random.pick(["websocket", "", "h2c", "a\nb", "CONNECT"])))]"
        case "path_redirect", "prefix_redirect": return value(plausible: strings(Self.strings))
        case "redirect_response_code": return value(plausible: ["301", "302", "308", "399", "\"301\""])
        case "weigth": return "10"
        default: return "true"
        }
    }

    mutating func headerAdditions() -> String {
        map(names: Self.headerNames) { generator in
            if generator.random.chance(0.3) {
                let value = generator.value(plausible: generator.strings(Self.strings))
                return "{\"value\": \(value), \"append\": \(generator.random.pick(["true", "false", "\"no\""]))}"
            }
            return generator.value(plausible: generator.strings(Self.strings))
        }
    }

    /// `count` documents as a YAML stream: Mapping resources and annotation Mappings, sometimes a Module, a Rollout
    /// on one of the Mappings, and Endpoints with odd addresses.
    mutating func documents(count: Int, batch: Int) -> String {
        var documents: [String] = []
        var annotations: [String] = []
        for index in 0..<count {
            let namespace = random.pick(["default", "ns1"])
            let name = "m\(batch)-\(index)"
            let version = random.pick(["getambassador.io/v2", "getambassador.io/v3alpha1"])
            let fields = mappingFields()
            mappings.append(GeneratedMapping(namespace: namespace, name: name))
            if random.chance(0.3) {
                annotations.append(
                    "{\"apiVersion\": \"\(version)\", \"kind\": \"Mapping\", \"name\": \"\(name)\", \"namespace\": \"\(namespace)\", "
                        + fields.joined(separator: ", ") + "}")
            } else {
                documents.append(
                    "{\"apiVersion\": \"\(version)\", \"kind\": \"Mapping\", \"metadata\": {\"name\": \"\(name)\", \"namespace\": \"\(namespace)\"}, \"spec\": {"
                        + fields.joined(separator: ", ") + "}}")
            }
        }
        if !annotations.isEmpty {
            documents.append(
                "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"carrier\(batch)\", \"annotations\": {\"getambassador.io/config\": \(json(annotations.joined(separator: "\n---\n")))}}, \"spec\": {\"ports\": [{\"port\": 80}]}}"
            )
        }
        if random.chance(0.5) {
            documents.append(
                "{\"apiVersion\": \"getambassador.io/v2\", \"kind\": \"Module\", \"metadata\": {\"name\": \"ambassador\"}, \"spec\": {\"config\": {\"cluster_request_timeout_ms\": \(value(plausible: Self.numbers)), \"regex_max_size\": \(value(plausible: ["200", "1000", "0", "-5", "100000"])), \"defaults\": {\"httpmapping\": {\"add_request_headers\": \(headerAdditions()), \"remove_response_headers\": \(value(plausible: strings(Self.headerNames)))}}}}}"
            )
        }
        if random.chance(0.6), let stable = mappings.last(where: { $0.namespace == "default" }) {
            let match =
                "{\"headerName\": \(json(random.pick(Self.headerNames))), \"headerValue\": {\"\(random.pick(["exact", "prefix", "regex"]))\": \(json(random.pick(Self.regexes + Self.strings)))}}"
            documents.append(
                "{\"apiVersion\": \"argoproj.io/v1alpha1\", \"kind\": \"Rollout\", \"metadata\": {\"name\": \"r\(batch)\"}, \"spec\": {\"strategy\": {\"canary\": {\"stableService\": \"svc\", \"canaryService\": \"svc-canary\", \"trafficRouting\": {\"ambassador\": {\"mappings\": [\"\(stable.name)\"]}}, \"steps\": [{\"setWeight\": \(value(plausible: ["10", "50", "101"]))}, {\"setHeaderRoute\": {\"name\": \"h\", \"match\": [\(match)]}}]}}}, \"status\": {\"currentStepIndex\": 1, \"stableRS\": \"a1\", \"currentPodHash\": \"b2\"}}"
            )
        }
        if random.chance(0.5) {
            let address = json(random.pick(["10.1.0.1", "not-an-ip", "1:2:3", "fd00::2", "", "999.0.0.1", "10.1.0.2"]))
            let port = random.pick(["0", "80", "8080", "65536", "-1"])
            documents.append(
                "{\"apiVersion\": \"v1\", \"kind\": \"Endpoints\", \"metadata\": {\"name\": \"svc\"}, \"subsets\": [{\"addresses\": [{\"ip\": \(address)}, {\"ip\": \"10.1.0.3\"}], \"ports\": [{\"port\": \(port)}]}]}"
            )
        }
        return documents.map { "---\n" + $0 + "\n" }.joined()
    }

    /// `text` as a JSON string literal (every control character escaped).
    func json(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
