import Foundation

// What Envoy accepts, checked where each value is decoded.
//
// Envoy refuses a whole route configuration (or cluster list, or bootstrap) when one field breaks its rules, so a
// value that would break one must reject its own object here, with a position, instead of reaching Envoy. The rules
// come from the `validate.rules` annotations of Envoy's v3 API protos (base.proto HeaderValue, route_components.proto
// HeaderMatcher, QueryParameterMatcher, RouteAction, cluster.proto) and from checks Envoy 1.40 makes in code, each
// confirmed with `envoy --mode validate`; EnvoyAcceptsPropertyTests asks the real Envoy about thousands of generated
// values.

/// Envoy's limits on values Attaché writes.
enum EnvoyLimits {
    /// The longest duration Envoy takes: it keeps durations as nanoseconds in an int64 (9,223,372,035.999 s; longer
    /// ones are refused as "Duration out-of-range" although the proto type allows more).
    static let maxDurationMilliseconds = 9_223_372_035_999
    /// `HeaderValue.key` and `.value`: at most 16384 bytes.
    static let maxHeaderBytes = 16384
    /// `HeaderMatcher.name` and `QueryParameterMatcher.name`: at most 1024 bytes.
    static let maxMatcherNameBytes = 1024
    /// `request_headers_to_add` / `response_headers_to_add`: at most 1000 entries per route.
    static let maxHeadersToAdd = 1000
}

/// Why Envoy would refuse `name` as a header name (empty, too long, or holding NUL, CR or LF: the non-strict
/// HTTP_HEADER_NAME rule); nil when it is fine.
func envoyHeaderNameProblem(_ name: String, maxBytes: Int = EnvoyLimits.maxHeaderBytes) -> String? {
    if name.isEmpty { return "a header name cannot be empty" }
    if name.utf8.count > maxBytes { return "a header name is at most \(maxBytes) bytes long" }
    if let bad = forbiddenControlCharacter(in: name) { return "a header name cannot contain \(bad)" }
    return nil
}

/// Why Envoy would refuse `value` as a header value, `host_rewrite` or `rewrite` (NUL, CR or LF, or over 16384
/// bytes: the non-strict HTTP_HEADER_VALUE rule); nil when it is fine.
func envoyHeaderValueProblem(_ value: String) -> String? {
    if value.utf8.count > EnvoyLimits.maxHeaderBytes { return "it is over \(EnvoyLimits.maxHeaderBytes) bytes long" }
    if let bad = forbiddenControlCharacter(in: value) { return "it contains \(bad), which no HTTP header may hold" }
    return nil
}

/// Why Envoy would refuse to add or remove the header `name` on a route: pseudo-headers (`:path`, `:status`, ...)
/// and `host` may not be modified that way ("`:-prefixed or host headers may not be modified`"). Use
/// `host_rewrite` to change the Host.
func envoyModifiableHeaderProblem(_ name: String) -> String? {
    if name.hasPrefix(":") { return "Envoy does not let a route add or remove pseudo-headers (\(name))" }
    if name.lowercased() == "host" { return "Envoy does not let a route add or remove `host` (use `host_rewrite`)" }
    return nil
}

/// Whether `text` is an IPv4 or IPv6 address literal Envoy can parse (it refuses a STATIC endpoint or an address
/// like `1:2:3` as "malformed IP address"). IPv6 without brackets.
func isIPAddressLiteral(_ text: String) -> Bool {
    var buffer = [UInt8](repeating: 0, count: 16)
    if text.utf8.contains(UInt8(ascii: ":")) { return inet_pton(AF_INET6, text, &buffer) == 1 }
    return inet_pton(AF_INET, text, &buffer) == 1
}

private func forbiddenControlCharacter(in text: String) -> String? {
    for byte in text.utf8 {
        switch byte {
        case 0: return "a NUL byte"
        case 0x0a: return "a line feed"
        case 0x0d: return "a carriage return"
        default: continue
        }
    }
    return nil
}

/// Why Envoy would refuse `value` as the value of a header to add: Envoy reads it as a substitution format, where
/// `%%` is a literal `%` and `%COMMAND%`, `%COMMAND(ARG)%` or `%COMMAND(ARG):LENGTH%` insert request data. A lone
/// `%` (`50% off`), an unknown command or a missing argument make it refuse the whole config. nil when fine.
func envoySubstitutionFormatProblem(_ value: String, in place: String = "a header value") -> String? {
    let bytes = Array(value.utf8)
    var index = 0
    while index < bytes.count {
        guard bytes[index] == UInt8(ascii: "%") else {
            index += 1
            continue
        }
        if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "%") {
            index += 2
            continue
        }
        var end = index + 1
        while end < bytes.count, isCommandByte(bytes[end]) { end += 1 }
        let command = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
        let literalHint = "write `%%` for a literal `%`"
        guard !command.isEmpty, let shape = substitutionCommands[command] else {
            let shown = command.isEmpty ? "`%`" : "`%\(abbreviated(command))`"
            return "\(shown) is not a command Envoy knows in \(place) (\(literalHint))"
        }
        var hasArgument = false
        if end < bytes.count, bytes[end] == UInt8(ascii: "(") {
            // The argument runs to the `)` that is followed by `%` or `:LENGTH%` (a START_TIME format may hold `%`).
            var close = end + 1
            var found: Int?
            while close < bytes.count {
                if bytes[close] == UInt8(ascii: ")"), let after = argumentEnd(bytes, afterParenthesis: close) {
                    found = after
                    break
                }
                close += 1
            }
            guard let after = found else { return "`%\(command)(` is not closed with `)%` (\(literalHint))" }
            if close == end + 1 { return "`%\(command)()%` needs an argument" }
            hasArgument = true
            end = after
        } else {
            guard end < bytes.count, bytes[end] == UInt8(ascii: "%") else {
                return "`%\(abbreviated(command))` is not closed with `%` (\(literalHint))"
            }
        }
        switch shape {
        case .noArgument where hasArgument: return "`%\(command)%` takes no argument"
        case .argument where !hasArgument: return "`%\(command)%` needs an argument: `%\(command)(...)%`"
        default: break
        }
        index = end + 1
    }
    return nil
}

/// The index of the closing `%` after an argument's `)` at `close`: `)%` or `):DIGITS%`; nil otherwise.
private func argumentEnd(_ bytes: [UInt8], afterParenthesis close: Int) -> Int? {
    var next = close + 1
    guard next < bytes.count else { return nil }
    if bytes[next] == UInt8(ascii: "%") { return next }
    guard bytes[next] == UInt8(ascii: ":") else { return nil }
    next += 1
    let digitsStart = next
    while next < bytes.count, bytes[next] >= UInt8(ascii: "0"), bytes[next] <= UInt8(ascii: "9") { next += 1 }
    guard next > digitsStart, next < bytes.count, bytes[next] == UInt8(ascii: "%") else { return nil }
    return next
}

private func isCommandByte(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
        || byte == UInt8(ascii: "_")
}

/// Whether a substitution command takes an argument.
private enum CommandShape {
    case noArgument, argument, either
}

/// The substitution commands Envoy 1.40 accepts in a header value, each asked of `envoy --mode validate` with and
/// without an argument. Commands whose argument Envoy parses further (CEL expressions, typed METADATA) are left out:
/// Attaché cannot check them, so it refuses them rather than let Envoy refuse the whole config.
private let substitutionCommands: [String: CommandShape] = {
    var table: [String: CommandShape] = [:]
    let noArgument = """
        ACCESS_LOG_TYPE BYTES_RECEIVED BYTES_RETRANSMITTED BYTES_SENT CONNECTION_ID CONNECTION_TERMINATION_DETAILS \
        DOWNSTREAM_DIRECT_LOCAL_ADDRESS DOWNSTREAM_DIRECT_LOCAL_PORT DOWNSTREAM_DIRECT_REMOTE_ADDRESS \
        DOWNSTREAM_DIRECT_REMOTE_PORT DOWNSTREAM_HANDSHAKE_DURATION DOWNSTREAM_HEADER_BYTES_RECEIVED \
        DOWNSTREAM_HEADER_BYTES_SENT DOWNSTREAM_LOCAL_ADDRESS DOWNSTREAM_LOCAL_DNS_SAN DOWNSTREAM_LOCAL_EMAIL_SAN \
        DOWNSTREAM_LOCAL_IP_SAN DOWNSTREAM_LOCAL_OTHERNAME_SAN DOWNSTREAM_LOCAL_PORT DOWNSTREAM_LOCAL_SUBJECT \
        DOWNSTREAM_LOCAL_URI_SAN DOWNSTREAM_PEER_CERT DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_1 \
        DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_256 DOWNSTREAM_PEER_CHAIN_SERIALS DOWNSTREAM_PEER_DNS_SAN \
        DOWNSTREAM_PEER_EMAIL_SAN DOWNSTREAM_PEER_FINGERPRINT_1 DOWNSTREAM_PEER_FINGERPRINT_256 DOWNSTREAM_PEER_IP_SAN \
        DOWNSTREAM_PEER_ISSUER DOWNSTREAM_PEER_OTHERNAME_SAN DOWNSTREAM_PEER_SERIAL DOWNSTREAM_PEER_SUBJECT \
        DOWNSTREAM_PEER_URI_SAN DOWNSTREAM_REMOTE_ADDRESS DOWNSTREAM_REMOTE_PORT DOWNSTREAM_TLS_CIPHER \
        DOWNSTREAM_TLS_SESSION_ID DOWNSTREAM_TLS_VERSION DOWNSTREAM_TRANSPORT_FAILURE_REASON \
        DOWNSTREAM_WIRE_BYTES_RECEIVED DOWNSTREAM_WIRE_BYTES_SENT DURATION FILTER_CHAIN_NAME HOSTNAME LOCAL_REPLY_BODY \
        PACKETS_RETRANSMITTED PROTOCOL REQUESTED_SERVER_NAME REQUEST_DURATION REQUEST_HEADERS_BYTES \
        REQUEST_TX_DURATION RESPONSE_CODE RESPONSE_DURATION RESPONSE_FLAGS RESPONSE_FLAGS_LONG RESPONSE_HEADERS_BYTES \
        RESPONSE_TRAILERS_BYTES RESPONSE_TX_DURATION ROUNDTRIP_DURATION ROUTE_NAME STREAM_ID TRACE_ID UNIQUE_ID \
        UPSTREAM_CLUSTER UPSTREAM_CLUSTER_RAW UPSTREAM_CONNECTION_ID UPSTREAM_CONNECTION_POOL_READY_DURATION \
        UPSTREAM_HEADER_BYTES_RECEIVED UPSTREAM_HEADER_BYTES_SENT UPSTREAM_HOST UPSTREAM_HOST_NAME \
        UPSTREAM_HOST_NAME_WITHOUT_PORT UPSTREAM_LOCAL_ADDRESS UPSTREAM_LOCAL_DNS_SAN UPSTREAM_LOCAL_IP_SAN \
        UPSTREAM_LOCAL_PORT UPSTREAM_LOCAL_URI_SAN UPSTREAM_PEER_CERT UPSTREAM_PEER_DNS_SAN UPSTREAM_PEER_IP_SAN \
        UPSTREAM_PEER_ISSUER UPSTREAM_PEER_SUBJECT UPSTREAM_PEER_URI_SAN UPSTREAM_PROTOCOL UPSTREAM_REMOTE_ADDRESS \
        UPSTREAM_REMOTE_PORT UPSTREAM_REQUEST_ATTEMPT_COUNT UPSTREAM_TLS_CIPHER UPSTREAM_TLS_SESSION_ID \
        UPSTREAM_TLS_VERSION UPSTREAM_TRANSPORT_FAILURE_REASON UPSTREAM_WIRE_BYTES_RECEIVED UPSTREAM_WIRE_BYTES_SENT \
        VIRTUAL_CLUSTER_NAME
        """
    let argument = """
        CLUSTER_METADATA DYNAMIC_METADATA FILTER_STATE REQ REQUEST_HEADER RESP RESPONSE_HEADER RESPONSE_TRAILER \
        TRAILER UPSTREAM_FILTER_STATE UPSTREAM_METADATA
        """
    let either = """
        DOWNSTREAM_DIRECT_LOCAL_ADDRESS_WITHOUT_PORT DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT \
        DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT DOWNSTREAM_PEER_CERT_V_END DOWNSTREAM_PEER_CERT_V_START \
        DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT EMIT_TIME EMIT_TIME_LOCAL RESPONSE_CODE_DETAILS START_TIME \
        START_TIME_LOCAL UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT UPSTREAM_PEER_CERT_V_END UPSTREAM_PEER_CERT_V_START \
        UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT
        """
    for (list, shape) in [(noArgument, CommandShape.noArgument), (argument, .argument), (either, .either)] {
        for name in list.split(separator: " ") { table[String(name)] = shape }
    }
    return table
}()
