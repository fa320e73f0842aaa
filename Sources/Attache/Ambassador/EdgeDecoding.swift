import Foundation
import YAML

// Decoding the edge kinds (EdgeResources.swift). As for Mappings, a field Attaché does not build that would change
// what is served (a certificate from a file, TCP listeners) rejects its object, and a field it does not know is an
// error: a typo in `requestPolicy` must not turn a redirect into plaintext routing unnoticed.

/// The protocol stacks of Emissary's `protocol` names that carry HTTP, as (TLS, PROXY) flags.
private let httpProtocols: [String: (tls: Bool, proxy: Bool)] = [
    "HTTP": (false, false), "HTTPS": (true, false), "HTTPPROXY": (false, true), "HTTPSPROXY": (true, true),
]

/// Stage: a `Listener` object → its settings, or nil when it must be rejected.
func decodeListener(_ object: KubernetesObject) -> (AmbassadorListener?, [Diagnostic]) {
    decodeSpec(
        object, kind: "Listener", invalid: .listenerInvalid,
        known: ["port", "protocol", "protocolStack", "securityModel", "hostBinding", "l7Depth", "statsPrefix"]
    ) { reader in
        let port = reader.integer("port", range: 1...65535)
        if port == nil, !reader.has("port") {
            reader.error(.listenerInvalid, "required field `port` is missing", at: reader.node)
        }
        var stack: (tls: Bool, proxy: Bool)?
        if let written = reader.stringList("protocolStack", singleStringAllowed: false) {
            if reader.has("protocol"), let node = reader.node["protocol"] {
                reader.warning(
                    .listenerInvalid, "`protocol` is ignored: `protocolStack` is set and wins (as in Emissary)",
                    at: node)
            }
            let upper = written.map { $0.uppercased() }
            if let match = httpProtocols.first(where: {
                protocolStack(tls: $0.value.tls, proxy: $0.value.proxy) == upper
            }) {
                stack = match.value
            } else if let node = reader.node["protocolStack"] {
                reader.error(
                    .edgeFieldNotImplemented,
                    "`protocolStack` [\(written.joined(separator: ", "))] is not an HTTP stack Attaché builds (HTTP, HTTPS, HTTPPROXY, HTTPSPROXY: \(httpProtocols.keys.sorted().map { protocolStack(tls: httpProtocols[$0]!.tls, proxy: httpProtocols[$0]!.proxy).joined(separator: ";") }.joined(separator: ", ")))",
                    at: node)
            }
        } else if let name = reader.string("protocol"), let node = reader.node["protocol"] {
            if let flags = httpProtocols[name] {
                stack = flags
            } else if ["TCP", "TLS", "UDP"].contains(name) {
                reader.error(
                    .edgeFieldNotImplemented,
                    "`protocol: \(name)` is not built: Attaché has no TCPMappings or HTTP/3; the Listener is skipped",
                    at: node)
            } else {
                reader.error(
                    .listenerInvalid,
                    "`protocol` must be one of HTTP, HTTPS, HTTPPROXY, HTTPSPROXY, but it is \"\(abbreviated(name))\"",
                    at: node)
            }
        } else if !reader.has("protocol") {
            reader.error(.listenerInvalid, "one of `protocol` and `protocolStack` must be written", at: reader.node)
        }
        var securityModel: AmbassadorListener.SecurityModel?
        if let text = reader.string("securityModel") {
            securityModel = AmbassadorListener.SecurityModel(rawValue: text)
            if securityModel == nil, let node = reader.node["securityModel"] {
                reader.error(
                    .listenerInvalid,
                    "`securityModel` must be XFP, SECURE or INSECURE, but it is \"\(abbreviated(text))\"",
                    at: node)
            }
        } else if !reader.has("securityModel") {
            reader.error(.listenerInvalid, "required field `securityModel` is missing", at: reader.node)
        }
        let l7Depth = reader.integer("l7Depth", range: 0...Int(Int32.max)) ?? 0
        var hostNamespace: String? = object.namespace
        var hostSelector: [String: String] = [:]
        if reader.has("hostBinding") {
            _ = reader.nested("hostBinding") { binding in
                binding.rejectUnknownFields(known: ["namespace", "selector"], kind: "Listener")
                guard binding.has("namespace") || binding.has("selector") else {
                    binding.error(
                        .listenerInvalid, "`hostBinding` must have `namespace` or `selector` (or both)",
                        at: binding.node)
                    return
                }
                _ = binding.nested("namespace") { namespace in
                    namespace.rejectUnknownFields(known: ["from"], kind: "Listener")
                    guard let from = namespace.string("from", required: true) else { return }
                    switch from.lowercased() {
                    case "all": hostNamespace = nil
                    case "self": hostNamespace = object.namespace
                    case "selector":
                        // Emissary cannot read namespace labels either: it says so and keeps the Listener's own namespace.
                        namespace.warning(
                            .edgeFieldIgnored,
                            "`hostBinding.namespace.from: SELECTOR` is not supported (nor by Emissary): the Listener takes the Hosts of its own namespace",
                            at: namespace.node["from"] ?? namespace.node)
                    default:
                        namespace.error(
                            .listenerInvalid,
                            "`hostBinding.namespace.from` must be ALL, SELF or SELECTOR, but it is \"\(abbreviated(from))\"",
                            at: namespace.node["from"] ?? namespace.node)
                    }
                }
                if binding.has("selector") {
                    hostSelector = binding.labelSelector("selector", kind: "Listener", matchLabelsRequired: true) ?? [:]
                }
            }
        } else {
            reader.error(.listenerInvalid, "required field `hostBinding` is missing", at: reader.node)
        }
        guard reader.isValid, let port, let stack, let securityModel else { return nil }
        let statsPrefix =
            reader.string("statsPrefix").flatMap { $0.isEmpty ? nil : $0 }
            ?? (stack.tls ? "ingress_https" : "ingress_http")
        return AmbassadorListener(
            reference: object.reference, location: object.location, processingKey: object.processingKey, port: port,
            terminatesTLS: stack.tls, proxyProtocol: stack.proxy, securityModel: securityModel, l7Depth: l7Depth,
            statsPrefix: statsPrefix, hostNamespace: hostNamespace, hostSelector: hostSelector)
    }
}

/// Emissary's protocol stack for the flags, outermost first (its `ProtocolStacks`).
private func protocolStack(tls: Bool, proxy: Bool) -> [String] {
    (tls ? ["TLS"] : []) + (proxy ? ["PROXY"] : []) + ["HTTP", "TCP"]
}

/// Stage: a `Host` object → its settings, or nil when it must be rejected.
func decodeHostResource(_ object: KubernetesObject) -> (AmbassadorHost?, [Diagnostic]) {
    decodeSpec(
        object, kind: "Host", invalid: .hostInvalid,
        known: [
            "hostname", "tlsSecret", "tlsContext", "tls", "requestPolicy", "mappingSelector", "selector",
            "acmeProvider", "previewUrl", "metadata_labels",
        ]
    ) { reader in
        let hostname = reader.string("hostname").flatMap { $0.isEmpty ? nil : $0 } ?? "*"
        var action = InsecureAction.redirect
        _ = reader.nested("requestPolicy") { policy in
            policy.rejectUnknownFields(known: ["insecure"], kind: "Host")
            _ = policy.nested("insecure") { insecure in
                insecure.rejectUnknownFields(known: ["action", "additionalPort"], kind: "Host")
                if let text = insecure.string("action"), let node = insecure.node["action"] {
                    if let parsed = InsecureAction(rawValue: text) {
                        action = parsed
                    } else {
                        insecure.error(
                            .hostInvalid,
                            "`requestPolicy.insecure.action` must be Redirect, Route or Reject, but it is \"\(abbreviated(text))\"",
                            at: node)
                    }
                }
                if insecure.has("additionalPort"), let node = insecure.node["additionalPort"] {
                    _ = insecure.integer("additionalPort")
                    insecure.warning(
                        .edgeFieldIgnored,
                        "`requestPolicy.insecure.additionalPort` is ignored, as in Emissary 3.x (which opens no port for it): add a Listener",
                        at: node)
                }
            }
        }
        var selector: [String: String]?
        if reader.has("mappingSelector") {
            selector = reader.labelSelector("mappingSelector", kind: "Host", matchLabelsRequired: false)
        } else if reader.has("selector") {
            selector = reader.labelSelector("selector", kind: "Host", matchLabelsRequired: false)
        }
        var tlsSecret: (name: String, namespace: String?)?
        _ = reader.nested("tlsSecret") { secret in
            secret.rejectUnknownFields(known: ["name", "namespace"], kind: "Host")
            if let name = secret.string("name"), !name.isEmpty {
                tlsSecret = (name, secret.string("namespace").flatMap { $0.isEmpty ? nil : $0 })
            }
        }
        var source = AmbassadorHost.TLSSource.implicit
        let contextName = reader.nested("tlsContext") { context -> String? in
            context.rejectUnknownFields(known: ["name"], kind: "Host")
            return context.string("name").flatMap { $0.isEmpty ? nil : $0 }
        }
        let inline = reader.nested("tls") { tls in tls.tlsSettings(camelCaseAllowed: true) }
        if let contextName = contextName ?? nil {
            if inline != nil, let node = reader.node["tls"] {
                reader.error(
                    .hostInvalid, "`tlsContext` and `tls` are both set; write one (Emissary refuses the Host)", at: node
                )
            }
            source = .named(contextName)
        } else if let inline {
            source = .inline(inline)
        }
        if tlsSecret == nil, source != .implicit, let node = reader.node["tlsContext"] ?? reader.node["tls"] {
            // Emissary reads a Host's TLS settings only together with its certificate.
            reader.warning(
                .edgeFieldIgnored,
                "TLS settings without `tlsSecret` are ignored (as in Emissary): this Host terminates no TLS",
                at: node)
        }
        for field in ["acmeProvider", "previewUrl"] {
            if let node = reader.node[field] {
                reader.warning(
                    .edgeFieldIgnored,
                    "`\(field)` is ignored (\(field == "acmeProvider" ? "ACME is Ambassador Edge Stack's; get certificates with cert-manager" : "no longer supported by Emissary"))",
                    at: node)
            }
        }
        guard reader.isValid else { return nil }
        return AmbassadorHost(
            reference: object.reference, location: object.location, processingKey: object.processingKey,
            labels: objectLabels(object), hostname: hostname, insecureAction: action, mappingSelector: selector,
            tlsSecret: tlsSecret, tlsSource: source)
    }
}

/// Stage: a `TLSContext` object → its settings, or nil when it must be rejected.
func decodeTLSContext(_ object: KubernetesObject) -> (AmbassadorTLSContext?, [Diagnostic]) {
    decodeSpec(
        object, kind: "TLSContext", invalid: .tlsContextInvalid,
        known: tlsSettingFields.union(["hosts", "secret", "secret_namespacing"])
    ) { reader in
        let hosts = reader.stringList("hosts", singleStringAllowed: false)
        let secret = reader.string("secret").flatMap { $0.isEmpty ? nil : $0 }
        let namespacing = reader.bool("secret_namespacing")
        let settings = reader.tlsSettings(camelCaseAllowed: false)
        // Emissary refuses a context that validates with a CA but has no certificate of its own (irtlscontext.py:
        // it reads `ca_secret` as client-certificate validation, which needs TLS termination). Taking it as "verify
        // the upstream" would route, with TLS, what Emissary sends in cleartext after the error.
        if settings.caSecret != nil, secret == nil, let node = reader.node["ca_secret"] {
            reader.error(
                .tlsContextInvalid,
                "`ca_secret` without `secret`: a TLSContext cannot validate client certificates without terminating TLS (as Emissary says); give it the `secret` of its own certificate",
                at: node)
        }
        guard reader.isValid else { return nil }
        return AmbassadorTLSContext(
            reference: object.reference, location: object.location, processingKey: object.processingKey, hosts: hosts,
            secret: secret, secretNamespacing: namespacing, settings: settings)
    }
}

/// The TLS settings fields (snake_case, as TLSContext and the v3alpha1 Host write them).
private let tlsSettingFields: Set<String> = [
    "alpn_protocols", "cert_required", "min_tls_version", "max_tls_version", "cipher_suites", "ecdh_curves",
    "ca_secret", "sni", "redirect_cleartext_from", "cert_chain_file", "private_key_file", "cacert_chain_file",
    "crl_secret", "crl_file",
]

/// The camelCase spellings a v2 Host's `tls` used, as Emissary maps them.
private let camelCaseTLSFields: [String: String] = [
    "alpnProtocols": "alpn_protocols", "cipherSuites": "cipher_suites", "ecdhCurves": "ecdh_curves",
    "redirectCleartextFrom": "redirect_cleartext_from", "certRequired": "cert_required",
    "minTlsVersion": "min_tls_version", "maxTlsVersion": "max_tls_version", "certChainFile": "cert_chain_file",
    "privateKeyFile": "private_key_file", "cacertChainFile": "cacert_chain_file", "crlSecret": "crl_secret",
    "crlFile": "crl_file", "caSecret": "ca_secret",
]

private let tlsVersions: Set<String> = ["v1.0", "v1.1", "v1.2", "v1.3"]

extension FieldReader {
    /// Errors for every field of this object that is not in `known` (with a did-you-mean).
    mutating func rejectUnknownFields(known: Set<String>, kind: String) {
        for pair in node.mapping ?? [] {
            guard case .string(let key)? = pair.key.resolved, !known.contains(key) else { continue }
            if [
                "apiVersion", "kind", "name", "namespace", "metadata", "metadata_labels", "ambassador_id",
                "ambassadorId",
                "generation",
            ]
            .contains(key) && path.isEmpty {
                continue
            }
            let hint = closestName(to: key, among: known.sorted(), maximumDistance: 2).map {
                " (did you mean `\($0)`?)"
            }
            error(.edgeUnknownField, "\(kind) field `\(path)\(key)` is unknown\(hint ?? "")", at: pair.key)
        }
    }

    /// A label selector at `key`: its `matchLabels` (what Emissary reads; `matchExpressions` it ignores, and so
    /// does Attaché, with a warning). nil after an error.
    mutating func labelSelector(_ key: String, kind: String, matchLabelsRequired: Bool) -> [String: String]? {
        nested(key) { selector -> [String: String]? in
            selector.rejectUnknownFields(known: ["matchLabels", "matchExpressions"], kind: kind)
            if let node = selector.node["matchExpressions"] {
                selector.warning(
                    .edgeFieldIgnored,
                    "`\(selector.path)matchExpressions` is ignored, as in Emissary: only `matchLabels` select", at: node
                )
            }
            guard selector.has("matchLabels") else {
                if matchLabelsRequired {
                    selector.error(
                        .listenerInvalid,
                        "`\(selector.path)` must have `matchLabels` (Emissary reads no other selector)",
                        at: selector.node)
                    return nil
                }
                return [:]
            }
            var labels: [String: String] = [:]
            for (name, value) in selector.entries("matchLabels") ?? [] {
                if let text = selector.scalarText(value, key: "matchLabels.\(name)") { labels[name] = text }
            }
            return labels
        } ?? nil
    }

    /// TLS settings (TLSContext fields, or a Host's `tls`). Fields Attaché does not build (certificates from files,
    /// revocation lists) are errors: the object is rejected rather than served without them.
    mutating func tlsSettings(camelCaseAllowed: Bool) -> TLSSettings {
        if camelCaseAllowed {
            rejectUnknownFields(known: tlsSettingFields.union(camelCaseTLSFields.keys), kind: "Host")
        }
        func name(_ snake: String) -> String {
            guard camelCaseAllowed, !has(snake) else { return snake }
            return camelCaseTLSFields.first { $0.value == snake && has($0.key) }?.key ?? snake
        }
        var settings = TLSSettings()
        settings.alpnProtocols = string(name("alpn_protocols"))
        settings.certRequired = bool(name("cert_required"))
        for (field, keyPath) in [("min_tls_version", \TLSSettings.minTLSVersion), ("max_tls_version", \.maxTLSVersion)]
        {
            let key = name(field)
            guard let version = string(key), let node = node[key] else { continue }
            if tlsVersions.contains(version) {
                settings[keyPath: keyPath] = version
            } else {
                error(
                    .tlsContextInvalid,
                    "`\(path)\(key)` must be one of v1.0, v1.1, v1.2, v1.3, but it is \"\(abbreviated(version))\"",
                    at: node)
            }
        }
        settings.cipherSuites = stringList(name("cipher_suites"), singleStringAllowed: false)
        settings.ecdhCurves = stringList(name("ecdh_curves"), singleStringAllowed: false)
        settings.caSecret = string(name("ca_secret")).flatMap { $0.isEmpty ? nil : $0 }
        settings.sni = string(name("sni"))
        for field in ["cert_chain_file", "private_key_file", "cacert_chain_file", "crl_secret", "crl_file"] {
            let key = name(field)
            if let node = node[key] {
                error(
                    .edgeFieldNotImplemented,
                    "`\(path)\(key)` is not built: Attaché reads certificates from Secrets only (`secret`, `ca_secret`, a Host's `tlsSecret`)",
                    at: node)
            }
        }
        let redirectKey = name("redirect_cleartext_from")
        if let node = node[redirectKey] {
            _ = integer(redirectKey)
            warning(
                .edgeFieldIgnored,
                "`\(path)\(redirectKey)` is ignored, as in Emissary 3.x: a Host's `requestPolicy.insecure.action` redirects cleartext",
                at: node)
        }
        return settings
    }
}

/// The start every edge kind's decoder shares: a reader on the object's spec, which must be a mapping, with fields
/// not in `known` refused (did-you-mean); `body` reads the rest and returns nil to reject the object. The value
/// comes back with what reading reported.
func decodeSpec<T>(
    _ object: KubernetesObject, kind: String, invalid code: DiagnosticCode, known: Set<String>,
    _ body: (inout FieldReader) -> T?
) -> (T?, [Diagnostic]) {
    var reader = FieldReader(object: object, typing: .schema)
    guard reader.node.mapping != nil else {
        reader.error(code, "the \(kind)'s spec must be a mapping, not \(reader.node.typeDescription)", at: reader.node)
        return (nil, reader.log.items)
    }
    reader.rejectUnknownFields(known: known, kind: kind)
    let value = body(&reader)
    return (value, reader.log.items)
}

/// An object's labels: `metadata.labels` of a resource, `metadata_labels` of an annotation document.
func objectLabels(_ object: KubernetesObject) -> [String: String] {
    if case .annotation = object.origin {
        var labels: [String: String] = [:]
        for pair in object.fields["metadata_labels"]?.mapping ?? [] {
            if let key = pair.key.scalar?.text, let value = pair.value.scalar?.text { labels[key] = value }
        }
        return labels
    }
    return object.labels
}

/// Stage: a `v1 Secret` → its certificate and key, if it has a `tls.crt` (others are not TLS Secrets: nil). `data`
/// is base64 as Kubernetes stores it; `stringData` (as written for `kubectl apply`) is plain and wins.
func decodeTLSSecret(_ object: KubernetesObject) -> TLSSecret? {
    let data = object.body["data"]
    let stringData = object.body["stringData"]
    guard data?["tls.crt"] != nil || stringData?["tls.crt"] != nil else { return nil }
    var problems: [String] = []
    func value(_ key: String) -> [UInt8]? {
        if let text = stringData?[key]?.scalar?.text { return Array(text.utf8) }
        guard let node = data?[key] else { return nil }
        guard let text = node.scalar?.text else {
            problems.append("`data.\(key)` is not a string")
            return nil
        }
        // Kubernetes writes base64 on one line; hand-written Secrets sometimes wrap it.
        guard let decoded = Data(base64Encoded: text.filter { !$0.isWhitespace }) else {
            problems.append("`data.\(key)` is not base64")
            return nil
        }
        return Array(decoded)
    }
    let chain = value("tls.crt")
    let key = value("tls.key")
    if let chain, let problem = pemProblem(chain, expecting: "CERTIFICATE") { problems.append("`tls.crt` \(problem)") }
    if let key, let problem = pemProblem(key, expecting: "PRIVATE KEY") { problems.append("`tls.key` \(problem)") }
    var certRequired: Bool?
    if let flag = value("cert_required") {
        certRequired = String(decoding: flag, as: UTF8.self).lowercased() == "true"
    }
    return TLSSecret(
        namespace: object.namespace, name: object.name, location: object.location, certificateChain: chain,
        privateKey: key, certRequired: certRequired, problems: problems)
}

/// What is wrong with `bytes` as PEM holding at least one `expecting` block (`CERTIFICATE`; `PRIVATE KEY` also
/// takes `RSA PRIVATE KEY` and `EC PRIVATE KEY`), each block's body base64 of DER (a SEQUENCE); nil when nothing.
/// Envoy refuses a Secret it cannot load and keeps the listener that needs it from serving, so the Host is refused
/// here instead. Never quotes the bytes.
func pemProblem(_ bytes: [UInt8], expecting label: String) -> String? {
    let text = String(decoding: bytes, as: UTF8.self)
    var blocks = 0
    var remaining = text[...]
    while let begin = remaining.range(of: "-----BEGIN ") {
        guard let labelEnd = remaining[begin.upperBound...].range(of: "-----") else { return "has a broken PEM header" }
        let found = String(remaining[begin.upperBound..<labelEnd.lowerBound])
        guard let end = remaining[labelEnd.upperBound...].range(of: "-----END \(found)-----") else {
            return "has a PEM block without its END line"
        }
        let body = remaining[labelEnd.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        // Legacy encrypted keys carry headers (`Proc-Type: ...`): Envoy cannot use them without a password anyway.
        guard let der = Data(base64Encoded: String(body)), der.first == 0x30 else {
            return "has a PEM block whose body is not DER in base64"
        }
        if found == label || (label == "PRIVATE KEY" && found.hasSuffix("PRIVATE KEY")) { blocks += 1 }
        remaining = remaining[end.upperBound...]
    }
    return blocks == 0 ? "holds no PEM `\(label)` block" : nil
}
