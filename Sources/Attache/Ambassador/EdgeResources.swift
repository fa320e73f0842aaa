// The edge: Listeners (ports), Hosts (names, certificates, what to do with cleartext), TLSContexts (TLS settings)
// and the Secrets that hold certificates, as Emissary 3.x reads them (python/ambassador/ir/irlistener.py,
// irhost.py, irtlscontext.py). Decoded here (EdgeDecoding.swift); joined into listeners, filter chains and virtual
// hosts in the routing stage (Routing/EdgePlan.swift).

/// A `Listener`: one port Envoy listens on, how it speaks (TLS, the PROXY protocol), how it decides that a request
/// is secure, and which Hosts it serves.
public struct AmbassadorListener: Sendable, Equatable {
    /// How the Listener decides whether a request is secure (Emissary's `securityModel`).
    public enum SecurityModel: String, Sendable, Equatable {
        /// Secure when `X-Forwarded-Proto` is `https` (Envoy sets it from the connection unless a trusted proxy
        /// did).
        case xfp = "XFP"
        /// Every request is secure.
        case secure = "SECURE"
        /// Every request is insecure.
        case insecure = "INSECURE"
    }

    public var reference: ObjectReference
    public var location: SourceLocation
    public var processingKey: String
    public var port: Int
    /// TLS is in the protocol stack (HTTPS, HTTPSPROXY): Hosts with a certificate get a TLS filter chain.
    public var terminatesTLS: Bool
    /// The PROXY protocol is in the stack (HTTPPROXY, HTTPSPROXY).
    public var proxyProtocol: Bool
    public var securityModel: SecurityModel
    /// `l7Depth`: the number of trusted proxies in front (Envoy's `xff_num_trusted_hops`).
    public var l7Depth: Int
    public var statsPrefix: String
    /// The namespace whose Hosts it takes (`hostBinding.namespace.from: SELF`); nil: every namespace (`ALL`).
    public var hostNamespace: String?
    /// `hostBinding.selector.matchLabels`: a Host must carry all of them (empty: no condition).
    public var hostSelector: [String: String]
}

/// What a Host does with an insecure request (`requestPolicy.insecure.action`).
public enum InsecureAction: String, Sendable, Equatable {
    /// Redirect to https (301), Emissary's default.
    case redirect = "Redirect"
    /// Route as a secure request would be.
    case route = "Route"
    /// Answer nothing: the request falls through to later routes, and to 404.
    case reject = "Reject"
}

/// TLS settings of a TLSContext, or of a Host's `tls` (which Emissary turns into a TLSContext of its own).
public struct TLSSettings: Sendable, Equatable, Hashable {
    /// As written: one string (`h2,http/1.1`), which Emissary hands Envoy as the one element of the list.
    public var alpnProtocols: String?
    public var certRequired: Bool?
    /// `v1.0` … `v1.3`.
    public var minTLSVersion: String?
    public var maxTLSVersion: String?
    public var cipherSuites: [String]?
    public var ecdhCurves: [String]?
    /// The Secret holding the CA that client certificates must chain to (`ca_secret`).
    public var caSecret: String?
    public var sni: String?

    public init() {}
}

/// A `Host`: a host name, the certificate it serves, and the Mappings it takes.
public struct AmbassadorHost: Sendable, Equatable {
    /// How a Host gets its TLS settings besides its certificate (`tlsSecret`).
    public enum TLSSource: Sendable, Equatable {
        /// `tlsContext.name`: the TLSContext of that name (which must agree on the certificate).
        case named(String)
        /// `tls`: settings of its own.
        case inline(TLSSettings)
        /// Neither: the TLSContext named `<host>-context` if there is one, else Ambassador's defaults.
        case implicit
    }

    public var reference: ObjectReference
    public var location: SourceLocation
    public var processingKey: String
    public var labels: [String: String]
    /// `hostname`, `*` when not written. May carry a port (`example.com:8443`).
    public var hostname: String
    public var insecureAction: InsecureAction
    /// `mappingSelector.matchLabels` (or the older `selector`); nil when not written.
    public var mappingSelector: [String: String]?
    /// `tlsSecret`: the certificate's Secret (namespace nil: the Host's own). nil: the Host terminates no TLS.
    public var tlsSecret: (name: String, namespace: String?)?
    public var tlsSource: TLSSource

    /// The server name a TLS client asks for: the host name without a port.
    public var sni: String {
        guard let colon = hostname.lastIndex(of: ":") else { return hostname }
        return String(hostname[..<colon])
    }

    public static func == (a: AmbassadorHost, b: AmbassadorHost) -> Bool {
        a.reference == b.reference && a.location == b.location && a.labels == b.labels && a.hostname == b.hostname
            && a.insecureAction == b.insecureAction && a.mappingSelector == b.mappingSelector
            && a.tlsSecret?.name == b.tlsSecret?.name && a.tlsSecret?.namespace == b.tlsSecret?.namespace
            && a.tlsSource == b.tlsSource
    }
}

/// A `TLSContext`: TLS settings with a certificate, for the Hosts named in `hosts` (or that name it).
public struct AmbassadorTLSContext: Sendable, Equatable {
    public var reference: ObjectReference
    public var location: SourceLocation
    public var processingKey: String
    /// `hosts`; nil when not written.
    public var hosts: [String]?
    /// `secret`: `name` or, with `secretNamespacing`, `name.namespace`.
    public var secret: String?
    public var secretNamespacing: Bool?
    public var settings: TLSSettings
}

/// A `v1 Secret` with a certificate: what a Host or TLSContext can terminate TLS with. The bytes are secret: they go
/// into the secret's own file and nowhere else (never into a diagnostic, a log line or another file).
public struct TLSSecret: Sendable, Equatable {
    public var namespace: String
    public var name: String
    public var location: SourceLocation
    /// `tls.crt`: the certificate chain, PEM. nil when the Secret has none.
    public var certificateChain: [UInt8]?
    /// `tls.key`: the private key, PEM.
    public var privateKey: [UInt8]?
    /// `cert_required` in the Secret's data (a CA Secret may say so).
    public var certRequired: Bool?
    /// What is wrong with it (said only when a Host or TLSContext uses it): missing or undecodable data, data that
    /// is not PEM. Never quotes the data.
    public var problems: [String]

    /// `namespace/name`, the key Secrets are found by.
    public var key: String { namespace + "/" + name }
}
