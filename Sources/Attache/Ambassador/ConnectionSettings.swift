import YAML

/// The `ambassador` Module's settings for Envoy's HTTP connection manager, on every listener (Emissary's
/// `base_http_config`, envoy/v3/v3listener.py). nil: not written.
public struct ConnectionSettings: Sendable, Equatable {
    /// `envoy_log_type`, `envoy_log_format`, `envoy_log_path`; nil when none of them is written.
    public var accessLog: AccessLog?
    public var useRemoteAddress: Bool?
    public var serverName: String?
    public var maxRequestHeadersKb: Int?
    /// `buffer_limit_bytes`: the listener's `per_connection_buffer_limit_bytes`.
    public var bufferLimitBytes: Int?
    public var mergeSlashes: Bool?
    public var stripMatchingHostPort: Bool?
    public var rejectEscapedSlashes: Bool?
    /// `listener_idle_timeout_ms`: `common_http_protocol_options.idle_timeout`.
    public var idleTimeoutMs: Int?
    public var preserveExternalRequestID: Bool?
    /// `headers_with_underscores_action`: ALLOW, REJECT_REQUEST or DROP_HEADER.
    public var headersWithUnderscores: String?
    /// `enable_http10`: `http_protocol_options.accept_http_10`.
    public var acceptHTTP10: Bool?
    /// `proper_case`: response header names in Proper-Case.
    public var properCase: Bool?

    public init() {}
}

/// Envoy's file access log: where, and in which format.
public struct AccessLog: Sendable, Equatable {
    public enum Format: Sendable, Equatable {
        /// A substitution format string (a line feed is added, as Emissary does).
        case text(String)
        /// JSON objects of these fields (`typed`: Envoy's typed JSON, numbers stay numbers).
        case json([JSONField], typed: Bool)
    }

    /// One field of a JSON access log line.
    public struct JSONField: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public var path: String
    public var format: Format

    /// Emissary's default: text, its format, to standard output.
    public static let emissaryDefault = AccessLog(path: "/dev/fd/1", format: .text(emissaryTextFormat))

    static let emissaryTextFormat =
        #"ACCESS [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%""#

    /// Emissary's JSON fields when `envoy_log_type` is json and no format is written.
    static let emissaryJSONFields: [JSONField] = [
        ("start_time", "%START_TIME%"), ("method", "%REQ(:METHOD)%"),
        ("path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"), ("protocol", "%PROTOCOL%"),
        ("response_code", "%RESPONSE_CODE%"), ("response_flags", "%RESPONSE_FLAGS%"),
        ("bytes_received", "%BYTES_RECEIVED%"), ("bytes_sent", "%BYTES_SENT%"), ("duration", "%DURATION%"),
        ("upstream_service_time", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%"),
        ("x_forwarded_for", "%REQ(X-FORWARDED-FOR)%"), ("user_agent", "%REQ(USER-AGENT)%"),
        ("request_id", "%REQ(X-REQUEST-ID)%"), ("authority", "%REQ(:AUTHORITY)%"),
        ("upstream_host", "%UPSTREAM_HOST%"), ("upstream_cluster", "%UPSTREAM_CLUSTER%"),
        ("upstream_local_address", "%UPSTREAM_LOCAL_ADDRESS%"),
        ("downstream_local_address", "%DOWNSTREAM_LOCAL_ADDRESS%"),
        ("downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%"),
        ("requested_server_name", "%REQUESTED_SERVER_NAME%"),
        ("istio_policy_status", "%DYNAMIC_METADATA(istio.mixer:status)%"),
        ("upstream_transport_failure_reason", "%UPSTREAM_TRANSPORT_FAILURE_REASON%"),
    ].map { JSONField(name: $0.0, value: $0.1) }
}

/// The Module settings `readConnectionSettings` reads.
let connectionSettingNames: Set<String> = [
    "envoy_log_type", "envoy_log_format", "envoy_log_path", "use_remote_address", "server_name",
    "max_request_headers_kb", "buffer_limit_bytes", "merge_slashes", "strip_matching_host_port",
    "reject_requests_with_escaped_slashes", "listener_idle_timeout_ms", "preserve_external_request_id",
    "headers_with_underscores_action", "enable_http10", "proper_case",
]

extension FieldReader {
    /// The connection manager's settings from the Module's `config`, each checked as Envoy would (a bad value is an
    /// error and left out: Envoy would refuse every listener).
    mutating func connectionSettings() -> ConnectionSettings {
        var settings = ConnectionSettings()
        settings.useRemoteAddress = bool("use_remote_address")
        if let name = string("server_name"), let node = node["server_name"] {
            if let problem = envoyHeaderValueProblem(name) {
                error(.moduleFieldType, "`server_name` \(problem)", at: node)
            } else {
                settings.serverName = name
            }
        }
        // Envoy: 1 to 8192 KiB; a connection's buffer limit is a uint32.
        settings.maxRequestHeadersKb = integer("max_request_headers_kb", range: 1...8192)
        settings.bufferLimitBytes = integer("buffer_limit_bytes", range: 1...Int(UInt32.max))
        settings.mergeSlashes = bool("merge_slashes")
        settings.stripMatchingHostPort = bool("strip_matching_host_port")
        settings.rejectEscapedSlashes = bool("reject_requests_with_escaped_slashes")
        settings.idleTimeoutMs = milliseconds("listener_idle_timeout_ms")
        settings.preserveExternalRequestID = bool("preserve_external_request_id")
        if let action = string("headers_with_underscores_action"), let node = node["headers_with_underscores_action"] {
            if ["ALLOW", "REJECT_REQUEST", "DROP_HEADER"].contains(action) {
                settings.headersWithUnderscores = action
            } else {
                error(
                    .moduleFieldType,
                    "`headers_with_underscores_action` is ALLOW, REJECT_REQUEST or DROP_HEADER, not \"\(action)\"",
                    at: node)
            }
        }
        settings.acceptHTTP10 = bool("enable_http10")
        settings.properCase = bool("proper_case")
        settings.accessLog = accessLog()
        return settings
    }

    /// `envoy_log_type` (text, json, typed_json), `envoy_log_format` (a string for text, a mapping of field names to
    /// formats for JSON) and `envoy_log_path`; nil when none is written.
    private mutating func accessLog() -> AccessLog? {
        guard has("envoy_log_type") || has("envoy_log_format") || has("envoy_log_path") else { return nil }
        var log = AccessLog.emissaryDefault
        if let path = string("envoy_log_path"), !path.isEmpty { log.path = path }
        let type = string("envoy_log_type")?.lowercased() ?? "text"
        guard ["text", "json", "typed_json"].contains(type) else {
            if let node = node["envoy_log_type"] {
                error(.moduleFieldType, "`envoy_log_type` is text, json or typed_json, not \"\(type)\"", at: node)
            }
            return log
        }
        let formatNode = node["envoy_log_format"].flatMap { $0.resolved == .null ? nil : $0 }
        if type == "text" {
            guard let formatNode else { return log }
            guard let text = formatNode.scalar?.text, formatNode.mapping == nil else {
                error(.moduleFieldType, "`envoy_log_format` must be a string for a text log", at: formatNode)
                return log
            }
            if let problem = envoySubstitutionFormatProblem(text, in: "an access log format") {
                error(.moduleFieldType, "`envoy_log_format`: \(problem)", at: formatNode)
                return log
            }
            log.format = .text(text)
            return log
        }
        var fields = AccessLog.emissaryJSONFields
        if let formatNode {
            guard let pairs = formatNode.mapping else {
                error(
                    .moduleFieldType,
                    "`envoy_log_format` must be a mapping of field names to formats for a \(type) log", at: formatNode)
                return log
            }
            fields = []
            for pair in pairs {
                guard let name = pair.key.scalar?.text, let value = pair.value.scalar?.text else {
                    error(.moduleFieldType, "`envoy_log_format` fields are names with string formats", at: pair.key)
                    continue
                }
                if let problem = envoySubstitutionFormatProblem(value, in: "an access log format") {
                    error(.moduleFieldType, "`envoy_log_format.\(name)`: \(problem)", at: pair.value)
                    continue
                }
                fields.append(AccessLog.JSONField(name: name, value: value))
            }
        }
        log.format = .json(fields, typed: type == "typed_json")
        return log
    }
}
