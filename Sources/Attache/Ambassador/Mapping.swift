/// One HTTP Mapping, decoded and checked: everything the routing model needs, nothing Envoy-specific.
public struct Mapping: Sendable {
    /// How `prefix` matches the path.
    public enum PathMatch: String, Sendable {
        case prefix, regex, exact
    }

    public var reference: ObjectReference
    public var location: SourceLocation
    /// Emissary's processing order key (`name.namespace.N`); see `KubernetesObject.processingKey`.
    public var processingKey: String
    public var isV3: Bool

    public var prefix: String
    public var pathMatch: PathMatch
    public var caseSensitive: Bool
    /// The replacement for the matched prefix; "" leaves the path alone. Ambassador's default is "/".
    public var rewrite: String

    public var service: ServiceReference
    public var serviceLocation: SourceLocation
    /// The canary share as written (0–100, rounded half to even as Emissary's `round()` does); nil when absent.
    public var weight: Int?
    public var weightLocation: SourceLocation?

    /// Header matchers in Emissary's order: `headers`, `regex_headers`, then `:authority` (host/hostname) and
    /// `:method`. They decide the canary group and the route order as well as matching.
    public var headers: [HeaderMatcher]
    public var queryParameters: [HeaderMatcher]
    public var precedence: Int

    public var timeoutMs: Int?
    public var idleTimeoutMs: Int?
    public var connectTimeoutMs: Int?
    public var hostRewrite: String?
    public var addRequestHeaders: [HeaderAddition]
    public var addResponseHeaders: [HeaderAddition]
    public var removeRequestHeaders: [String]?
    public var removeResponseHeaders: [String]?
    public var resolver: String?
    public var resolverLocation: SourceLocation?
}

/// A condition on one request header (or query parameter).
public struct HeaderMatcher: Sendable, Hashable {
    public enum Value: Sendable, Hashable {
        /// The whole value equals the text.
        case exact(String)
        /// The whole value matches the RE2 regex. YAML `true` ("present, any value") is the regex `.*`, as in
        /// Emissary.
        case regex(String)
        /// A DNS glob on `:authority`: `*`, `*.example.com`, `example.*`, or an exact name.
        case hostGlob(String)
    }

    public var name: String
    public var value: Value

    public init(name: String, value: Value) {
        self.name = name
        self.value = value
    }

    public var valueText: String {
        switch value {
        case .exact(let v), .regex(let v), .hostGlob(let v): return v
        }
    }

    public var isRegex: Bool {
        if case .regex = value { return true }
        return false
    }

    /// Emissary's header length for route order: name + value (code points), plus one for a regex.
    public var sortLength: Int {
        name.unicodeScalars.count + valueText.unicodeScalars.count + (isRegex ? 1 : 0)
    }

    /// Emissary's header key for route order: `name-value`.
    public var sortKey: String { "\(name)-\(valueText)" }
}

/// A header to add to requests or responses.
public struct HeaderAddition: Sendable, Hashable {
    public var name: String
    public var value: String
    /// Add beside an existing value (true, Ambassador's default) or replace it.
    public var append: Bool
}

/// A parsed `service` field: `[scheme://]host[:port]`.
public struct ServiceReference: Sendable, Hashable {
    /// "http" or "https", lowercased; nil when not written.
    public var scheme: String?
    /// Lowercased host name or IP address (IPv6 without brackets).
    public var host: String
    /// The port number, when written as a number.
    public var port: Int?
    /// The port name, when written as a name (`websvc:http`), resolved later through the Service's ports.
    public var portName: String?

    public var isTLS: Bool { scheme == "https" }

    /// The port Envoy connects to when the Mapping names none: 80, or 443 for `https://`.
    public var defaultPort: Int { isTLS ? 443 : 80 }
}
