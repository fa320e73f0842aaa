/// What one Mapping asks of its route beyond the match and the weight: path and Host rewrites, timeouts, headers
/// added and removed. A Mapping carries the values as written; its route carries them resolved (the Module's
/// defaults and the canary group's merged headers filled in), and the Envoy route builder writes them.
///
/// A new route-level field is one property here, decoded in MappingDecoder, written by `envoyRoute`, and one line
/// of `described` (Review/SettingsDescription.swift), through which `diff` and `explain` list it.
public struct RouteSettings: Sendable, Hashable {
    /// Replacement for the matched prefix (the whole path for regex and exact matches); nil leaves the path alone.
    public var prefixRewrite: String?
    public var hostRewrite: String?
    public var timeoutMs: Int?
    public var idleTimeoutMs: Int?
    public var addRequestHeaders: [HeaderAddition] = []
    public var addResponseHeaders: [HeaderAddition] = []
    /// nil: not written (a route then takes its group's, else the Module's defaults).
    public var removeRequestHeaders: [String]?
    public var removeResponseHeaders: [String]?

    public init(
        prefixRewrite: String? = "/", hostRewrite: String? = nil, timeoutMs: Int? = nil, idleTimeoutMs: Int? = nil,
        addRequestHeaders: [HeaderAddition] = [], addResponseHeaders: [HeaderAddition] = [],
        removeRequestHeaders: [String]? = nil, removeResponseHeaders: [String]? = nil
    ) {
        self.prefixRewrite = prefixRewrite
        self.hostRewrite = hostRewrite
        self.timeoutMs = timeoutMs
        self.idleTimeoutMs = idleTimeoutMs
        self.addRequestHeaders = addRequestHeaders
        self.addResponseHeaders = addResponseHeaders
        self.removeRequestHeaders = removeRequestHeaders
        self.removeResponseHeaders = removeResponseHeaders
    }
}

/// What one Mapping asks of the cluster its traffic goes to, beyond where that is. Settings that differ give
/// different clusters (`UpstreamCluster.Identity`); Emissary lets the first Mapping's win, Attaché does not.
///
/// A Mapping carries the values as written (nil: not written); a cluster carries them resolved.
public struct ClusterSettings: Sendable, Hashable {
    public var connectTimeoutMs: Int?

    public init(connectTimeoutMs: Int? = nil) {
        self.connectTimeoutMs = connectTimeoutMs
    }
}
