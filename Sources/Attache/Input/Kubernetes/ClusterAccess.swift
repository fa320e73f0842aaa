// How to reach the Kubernetes API, as every Kubernetes client finds it: in a pod, its service account; outside, a
// kubeconfig (`--kubeconfig`, else $KUBECONFIG, else ~/.kube/config), its current context or `--context`.

import Foundation
import KubernetesHTTP
import YAML

/// The API server and the client's credentials.
public struct ClusterAccess: Sendable {
    /// `https://host:port`, without a trailing slash.
    public var server: String
    public var tls: TLSClientSettings
    /// Where the bearer token comes from: read again for every request, because bound service-account tokens
    /// rotate on disk.
    public var token: TokenSource?
    /// The namespace of the context or the pod (for messages; watching is cluster-wide unless `--namespace`).
    public var namespace: String?
    /// Where this came from, for messages: `in-cluster` or `kubeconfig PATH context NAME`.
    public var origin: String

    /// A bearer token, written or read from a file.
    public enum TokenSource: Sendable {
        case literal(String)
        case file(String)

        /// The token now (a file is read each time: rotation is picked up by the next request).
        public func current() -> String? {
            switch self {
            case .literal(let token): return token
            case .file(let path):
                return (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(
                    in: .whitespacesAndNewlines)
            }
        }
    }

    /// The request headers every API call carries.
    func headers() -> [String] {
        var headers = ["Accept: application/json"]
        if let token = token?.current(), !token.isEmpty { headers.append("Authorization: Bearer \(token)") }
        return headers
    }
}

/// Why the API server's address or the credentials could not be found. Never quotes a credential.
public struct ClusterAccessError: Error, CustomStringConvertible {
    public var description: String
}

/// The mount of a pod's service account (overridable for tests and unusual mounts with
/// `ATTACHE_SERVICEACCOUNT_DIR`).
let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

/// Finds the API server: with `kubeconfig` or `context` given, or no in-cluster environment, from a kubeconfig;
/// otherwise from the pod's service account.
public func findClusterAccess(
    kubeconfig: String?, context: String?, environment: [String: String] = ProcessInfo.processInfo.environment
) throws(ClusterAccessError) -> ClusterAccess {
    if kubeconfig == nil, context == nil, let host = environment["KUBERNETES_SERVICE_HOST"],
        let port = environment["KUBERNETES_SERVICE_PORT"]
    {
        return try inClusterAccess(host: host, port: port, environment: environment)
    }
    let path =
        kubeconfig ?? environment["KUBECONFIG"]?.split(separator: ":").first.map(String.init)
        ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.kube/config"
    guard let bytes = FileManager.default.contents(atPath: path) else {
        throw ClusterAccessError(
            description:
                "no kubeconfig at \(path) and not in a pod (KUBERNETES_SERVICE_HOST unset); give --kubeconfig PATH")
    }
    return try kubeconfigAccess(Array(bytes), path: path, context: context)
}

/// A pod's service account: the token file (re-read for every request), its CA and namespace.
func inClusterAccess(host: String, port: String, environment: [String: String]) throws(ClusterAccessError)
    -> ClusterAccess
{
    let directory = environment["ATTACHE_SERVICEACCOUNT_DIR"] ?? serviceAccountDirectory
    guard let ca = FileManager.default.contents(atPath: directory + "/ca.crt") else {
        throw ClusterAccessError(description: "in a pod, but \(directory)/ca.crt cannot be read")
    }
    guard FileManager.default.isReadableFile(atPath: directory + "/token") else {
        throw ClusterAccessError(description: "in a pod, but \(directory)/token cannot be read")
    }
    let namespace = (try? String(contentsOfFile: directory + "/namespace", encoding: .utf8))?
        .trimmingCharacters(in: .whitespacesAndNewlines)
    let hostPart = host.contains(":") ? "[\(host)]" : host  // an IPv6 address
    return ClusterAccess(
        server: "https://\(hostPart):\(port)", tls: TLSClientSettings(caCertificate: Array(ca)),
        token: .file(directory + "/token"), namespace: namespace, origin: "in-cluster service account")
}

/// A kubeconfig's context (`context`, else `current-context`): its cluster's server and CA, its user's
/// credentials. Paths in it are relative to the kubeconfig's directory. Authentication Attaché cannot do (exec
/// plugins, auth providers, passwords) is an error naming it.
func kubeconfigAccess(_ bytes: [UInt8], path: String, context wanted: String?) throws(ClusterAccessError)
    -> ClusterAccess
{
    let document: Node
    do {
        guard let root = try parseYAML(bytes).documents.first?.root else {
            throw ClusterAccessError(description: "\(path) is empty")
        }
        document = root
    } catch let error as ClusterAccessError {
        throw error
    } catch {
        throw ClusterAccessError(description: "\(path) is not valid YAML: \(error)")
    }
    func named(_ list: String, _ name: String) -> Node? {
        document[list]?.sequence?.first { $0["name"]?.scalarText == name }
    }
    guard let contextName = wanted ?? document["current-context"]?.scalarText, !contextName.isEmpty else {
        throw ClusterAccessError(description: "\(path) has no current-context; give --context NAME")
    }
    guard let context = named("contexts", contextName)?["context"] else {
        throw ClusterAccessError(description: "\(path) has no context \"\(contextName)\"")
    }
    let clusterEntry = context["cluster"]?.scalarText ?? ""
    guard let cluster = named("clusters", clusterEntry)?["cluster"], let server = cluster["server"]?.scalarText else {
        throw ClusterAccessError(
            description: "\(path): context \(contextName) names cluster \"\(clusterEntry)\", which has no server")
    }
    let base = (path as NSString).deletingLastPathComponent
    func file(_ value: String) -> String { value.hasPrefix("/") ? value : base + "/" + value }
    /// `<key>-data` (base64) or `<key>` (a file).
    func material(_ node: Node, _ key: String) throws(ClusterAccessError) -> [UInt8]? {
        if let data = node[key + "-data"]?.scalarText {
            guard let decoded = Data(base64Encoded: data, options: .ignoreUnknownCharacters) else {
                throw ClusterAccessError(description: "\(path): \(key)-data is not base64")
            }
            return Array(decoded)
        }
        if let name = node[key]?.scalarText {
            guard let contents = FileManager.default.contents(atPath: file(name)) else {
                throw ClusterAccessError(description: "\(path): \(key) \(file(name)) cannot be read")
            }
            return Array(contents)
        }
        return nil
    }
    var tls = TLSClientSettings()
    tls.caCertificate = try material(cluster, "certificate-authority")
    tls.insecureSkipVerify = cluster["insecure-skip-tls-verify"]?.resolved == .bool(true)
    var token: ClusterAccess.TokenSource?
    let userName = context["user"]?.scalarText ?? ""
    if let user = named("users", userName)?["user"] {
        for unsupported in ["exec", "auth-provider", "username", "password"] where user[unsupported] != nil {
            throw ClusterAccessError(
                description:
                    "\(path): user \(userName) authenticates with `\(unsupported)`, which Attaché does not support; use a token, a token file or a client certificate (e.g. a service account token)"
            )
        }
        tls.clientCertificate = try material(user, "client-certificate")
        tls.clientKey = try material(user, "client-key")
        if (tls.clientCertificate == nil) != (tls.clientKey == nil) {
            throw ClusterAccessError(
                description:
                    "\(path): user \(userName) has a client certificate without its key, or a key without its certificate"
            )
        }
        if let literal = user["token"]?.scalarText {
            token = .literal(literal)
        } else if let tokenFile = user["tokenFile"]?.scalarText {
            token = .file(file(tokenFile))
        }
    }
    var trimmed = server
    while trimmed.hasSuffix("/") { trimmed.removeLast() }
    guard trimmed.hasPrefix("https://") || trimmed.hasPrefix("http://") else {
        throw ClusterAccessError(description: "\(path): server \"\(server)\" is not an http(s) URL")
    }
    return ClusterAccess(
        server: trimmed, tls: tls, token: token, namespace: context["namespace"]?.scalarText,
        origin: "kubeconfig \(path) context \(contextName)")
}
