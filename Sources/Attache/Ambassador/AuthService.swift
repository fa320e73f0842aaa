// AuthService: every request is checked by an external authorization service before it is routed, as Emissary 3.x
// builds it (ir/irauth.py; envoy/v3/v3httpfilter.py `V3HTTPFilter_authv1`): Envoy's ext_authz filter, HTTP or gRPC.

/// An `AuthService`: where authorization requests go and what they carry.
public struct AuthService: Sendable, Equatable {
    public enum CheckProtocol: String, Sendable, Equatable {
        case http, grpc
    }

    public var reference: ObjectReference
    public var location: SourceLocation
    public var processingKey: String
    /// `auth_service` as written, and parsed.
    public var serviceText: String
    public var service: ServiceReference
    public var proto: CheckProtocol
    /// `path_prefix`: prepended to the request's path in the check request (HTTP).
    public var pathPrefix: String?
    public var timeoutMs: Int
    public var connectTimeoutMs: Int
    /// Request headers sent to the service besides Emissary's fixed set, lower case.
    public var allowedRequestHeaders: [String]
    /// Headers of the service's answer passed on (to the upstream when allowed, to the client when denied).
    public var allowedAuthorizationHeaders: [String]
    /// `add_auth_headers`: headers added to the check request.
    public var addAuthHeaders: [HeaderAddition]
    /// `include_body` (or `allow_request_body`): the request body sent along, up to `maxBytes`.
    public var body: (maxBytes: Int, allowPartial: Bool)?
    /// `failure_mode_allow`: requests pass when the service cannot be reached.
    public var failureModeAllow: Bool
    /// `status_on_error.code`: the status when the service cannot be reached (Envoy's default 403).
    public var statusOnError: Int?
    public var addLinkerdHeaders: Bool

    public static func == (a: AuthService, b: AuthService) -> Bool {
        a.reference == b.reference && a.serviceText == b.serviceText && a.proto == b.proto
            && a.pathPrefix == b.pathPrefix && a.timeoutMs == b.timeoutMs && a.connectTimeoutMs == b.connectTimeoutMs
            && a.allowedRequestHeaders == b.allowedRequestHeaders
            && a.allowedAuthorizationHeaders == b.allowedAuthorizationHeaders && a.addAuthHeaders == b.addAuthHeaders
            && a.body?.maxBytes == b.body?.maxBytes && a.body?.allowPartial == b.body?.allowPartial
            && a.failureModeAllow == b.failureModeAllow && a.statusOnError == b.statusOnError
            && a.addLinkerdHeaders == b.addLinkerdHeaders
    }

    /// Request headers Emissary always sends to an HTTP AuthService.
    static let fixedRequestHeaders = [
        "authorization", "cookie", "from", "proxy-authorization", "user-agent", "x-forwarded-for", "x-forwarded-host",
        "x-forwarded-proto",
    ]
    /// Answer headers Emissary always passes on.
    static let fixedAuthorizationHeaders = [
        "location", "authorization", "proxy-authenticate", "set-cookie", "www-authenticate",
    ]
}

private let authServiceFields: Set<String> = [
    "auth_service", "path_prefix", "proto", "protocol_version", "timeout_ms", "connect_timeout_ms",
    "allowed_headers", "allowed_request_headers", "allowed_authorization_headers", "add_auth_headers",
    "include_body", "allow_request_body", "failure_mode_allow", "status_on_error", "add_linkerd_headers",
    "stats_name", "v3StatsName", "cluster_idle_timeout_ms", "cluster_max_connection_lifetime_ms",
    "circuit_breakers", "tls", "v3CircuitBreakers",
]

/// Stage: an `AuthService` object → its settings, or nil when it must be rejected (then nothing authenticates, and
/// the error says so).
func decodeAuthService(_ object: KubernetesObject) -> (AuthService?, [Diagnostic]) {
    decodeSpec(object, kind: "AuthService", invalid: .authServiceInvalid, known: authServiceFields) { reader in
        for field in ["tls", "circuit_breakers", "cluster_idle_timeout_ms", "cluster_max_connection_lifetime_ms"] {
            if let node = reader.node[field] {
                // Each changes how (or whether) the check request reaches the service: refused rather than ignored.
                reader.error(
                    .edgeFieldNotImplemented,
                    "`\(field)` on an AuthService is not built by Attaché yet; the AuthService is refused (requests are NOT authenticated)",
                    at: node)
            }
        }
        var service: ServiceReference?
        let serviceText = reader.string("auth_service", required: true)
        if let text = serviceText, let node = reader.node["auth_service"] {
            switch parseServiceReference(text) {
            case .success(let parsed): service = parsed.reference
            case .failure(let problem):
                reader.error(
                    problem.code, problem.message.replacingOccurrences(of: "`service`", with: "`auth_service`"),
                    at: node)
            }
        }
        var proto = AuthService.CheckProtocol.http
        if let text = reader.string("proto"), let node = reader.node["proto"] {
            if let parsed = AuthService.CheckProtocol(rawValue: text) {
                proto = parsed
            } else {
                reader.error(.authServiceInvalid, "`proto` is http or grpc, not \"\(text)\"", at: node)
            }
        }
        if proto == .grpc, let version = reader.string("protocol_version"), version != "v3",
            let node = reader.node["protocol_version"]
        {
            reader.error(
                .authServiceInvalid, "`protocol_version` must be v3 for a gRPC AuthService (as in Emissary)", at: node)
        }
        let pathPrefix = reader.string("path_prefix").flatMap { $0.isEmpty ? nil : $0 }
        if let prefix = pathPrefix, !prefix.hasPrefix("/"), let node = reader.node["path_prefix"] {
            reader.error(.authServiceInvalid, "`path_prefix` must start with `/`", at: node)
        }
        let timeoutMs = reader.milliseconds("timeout_ms", minimum: 1) ?? 5000
        let connectTimeoutMs = reader.milliseconds("connect_timeout_ms", minimum: 1) ?? 3000
        func headerNames(_ key: String) -> [String] {
            let names = (reader.stringList(key) ?? []).map { $0.lowercased() }
            for name in names {
                if let problem = envoyHeaderNameProblem(name), let node = reader.node[key] {
                    reader.error(.authServiceInvalid, "`\(key)`: \(problem)", at: node)
                }
            }
            return names.sorted()
        }
        let allowedRequest = headerNames("allowed_request_headers") + headerNames("allowed_headers")
        let allowedAuthorization = headerNames("allowed_authorization_headers")
        let addAuthHeaders = reader.headerAdditions("add_auth_headers")
        var body: (Int, Bool)?
        if reader.has("include_body") {
            body =
                reader.nested("include_body") { include -> (Int, Bool)? in
                    guard let maxBytes = include.integer("max_bytes", range: 1...Int(UInt32.max)) else {
                        if let node = include.node["max_bytes"] ?? Optional(include.node) {
                            include.error(.authServiceInvalid, "`include_body.max_bytes` is required", at: node)
                        }
                        return nil
                    }
                    return (maxBytes, include.bool("allow_partial") ?? false)
                } ?? nil
        } else if reader.bool("allow_request_body") == true {
            body = (4096, true)
        }
        let failureModeAllow = reader.bool("failure_mode_allow") ?? false
        let statusOnError =
            reader.nested("status_on_error") { status in status.integer("code", range: 100...599) } ?? nil
        let addLinkerdHeaders = reader.bool("add_linkerd_headers") ?? false
        guard reader.isValid, let service, let serviceText else { return nil }
        return AuthService(
            reference: object.reference, location: object.location, processingKey: object.processingKey,
            serviceText: serviceText, service: service, proto: proto, pathPrefix: pathPrefix, timeoutMs: timeoutMs,
            connectTimeoutMs: connectTimeoutMs, allowedRequestHeaders: allowedRequest,
            allowedAuthorizationHeaders: allowedAuthorization, addAuthHeaders: addAuthHeaders,
            body: body.map { (maxBytes: $0.0, allowPartial: $0.1) }, failureModeAllow: failureModeAllow,
            statusOnError: statusOnError, addLinkerdHeaders: addLinkerdHeaders)
    }
}
