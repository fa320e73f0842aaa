import Foundation
import XCTest

/// Tests/Harness/fake_apiserver.py: a Kubernetes API server on loopback (HTTPS with a certificate from the test's
/// CA, a bearer token), with a control API to create, change and delete objects and to inject faults. The process
/// exits when our end of its stdin closes, so it cannot outlive the test run.
final class FakeAPIServer {
    let apiPort: Int
    let controlPort: Int
    private let process: HarnessProcess

    init(pki: TestPKI, token: String, absentGroups: [String] = []) throws {
        let server = try pki.issue("localhost", ip: "127.0.0.1")
        process = try HarnessProcess(
            script: "fake_apiserver.py",
            arguments: [server.certificate, server.key, token] + absentGroups.flatMap { ["--absent-group", $0] })
        guard let api = process.ports["api"], let control = process.ports["control"] else {
            throw HarnessError("fake_apiserver.py did not report its ports")
        }
        (apiPort, controlPort) = (api, control)
    }

    /// A kubeconfig for this server: its CA as data, the token (or a token file).
    func kubeconfig(pki: TestPKI, token: String? = nil, tokenFile: String? = nil) throws -> String {
        let ca = try Data(contentsOf: URL(fileURLWithPath: pki.caCertificate)).base64EncodedString()
        let user = token.map { "token: \($0)" } ?? tokenFile.map { "tokenFile: \($0)" } ?? "{}"
        return """
            apiVersion: v1
            kind: Config
            current-context: test
            contexts:
            - name: test
              context: {cluster: fake, user: tester, namespace: default}
            clusters:
            - name: fake
              cluster: {server: "https://127.0.0.1:\(apiPort)", certificate-authority-data: \(ca)}
            users:
            - name: tester
              user: {\(user)}
            """
    }

    @discardableResult
    private func post(_ path: String, _ body: Any) throws -> [String: Any] {
        let client = HTTPClient(port: controlPort)
        defer { client.close() }
        let data = try JSONSerialization.data(withJSONObject: body)
        let response = try client.send(
            method: "POST", path: path, headers: [("Content-Type", "application/json")], body: Array(data))
        guard response.status == 200 else { throw HarnessError("control \(path) answered \(response.status)") }
        return (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
    }

    /// Creates or replaces an object given as YAML-like JSON text.
    func apply(_ object: [String: Any]) throws { try post("/apply", object) }
    /// Creates or replaces many objects in one request.
    func apply(all objects: [[String: Any]]) throws { try post("/apply", objects) }
    func delete(apiVersion: String, kind: String, namespace: String = "default", name: String) throws {
        try post("/delete", ["apiVersion": apiVersion, "kind": kind, "namespace": namespace, "name": name])
    }
    func fault(_ fault: [String: Any]) throws { try post("/fault", fault) }

    func stats() throws -> [String: Int] {
        let client = HTTPClient(port: controlPort)
        defer { client.close() }
        let json = try JSONSerialization.jsonObject(with: Data(try client.send(path: "/stats").body)) as? [String: Any]
        return (json ?? [:]).compactMapValues { $0 as? Int }
    }

    func stop() { process.stop() }
}
