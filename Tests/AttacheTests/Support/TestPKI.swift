import Foundation
import XCTest

/// A certificate authority made for one test with the `openssl` command, and certificates it signs: server
/// certificates for host names (with the name as subjectAltName) and client certificates. Everything lives in a
/// temporary directory removed by `remove()`.
final class TestPKI {
    let directory: URL
    var caCertificate: String { directory.appendingPathComponent("ca.crt").path }
    private var serial = 1000

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("attache-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("ca.key"), "-out", path("ca.crt"),
            "-days", "2", "-subj", "/CN=Attache Test CA",
        ])
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A certificate for `name` signed by the CA (a new serial each time): (certificate file, key file).
    @discardableResult
    func issue(_ name: String, client: Bool = false, ip: String? = nil) throws -> (certificate: String, key: String) {
        serial += 1
        let base = "\(name)-\(serial)"
        try openssl([
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", path(base + ".key"), "-out", path(base + ".csr"),
            "-subj", "/CN=\(name)",
        ])
        let extensions =
            client ? "extendedKeyUsage=clientAuth" : "subjectAltName=DNS:\(name)" + (ip.map { ",IP:\($0)" } ?? "")
        try extensions.write(toFile: path(base + ".ext"), atomically: true, encoding: .utf8)
        try openssl([
            "x509", "-req", "-in", path(base + ".csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"),
            "-set_serial", "\(serial)", "-out", path(base + ".crt"), "-days", "2", "-extfile", path(base + ".ext"),
        ])
        return (path(base + ".crt"), path(base + ".key"))
    }

    /// The serial `https_probe.py` reports for a certificate issued here (lower-case hex).
    func serialHex(of certificate: String) throws -> String {
        let output = try openssl(["x509", "-noout", "-serial", "-in", certificate])
        return String(output.split(separator: "=").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            .lowercased().replacingOccurrences(of: "^0+", with: "", options: .regularExpression)
    }

    /// A `kubernetes.io/tls` Secret with the certificate and key (and `ca.crt` when `ca` is set), base64 as
    /// Kubernetes stores them.
    func secretYAML(name: String, certificate: String, key: String?) throws -> String {
        func base64(_ file: String) throws -> String {
            try Data(contentsOf: URL(fileURLWithPath: file)).base64EncodedString()
        }
        var data = "  tls.crt: \(try base64(certificate))\n"
        if let key { data += "  tls.key: \(try base64(key))\n" }
        return """
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: \(name), namespace: default}
            type: \(key == nil ? "Opaque" : "kubernetes.io/tls")
            data:
            \(data)
            """
    }

    @discardableResult
    private func openssl(_ arguments: [String]) throws -> String {
        guard
            let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first(
                where: FileManager.default.isExecutableFile)
        else { throw HarnessError("the openssl command is missing (scripts/test installs it)") }
        let (status, output) = try runProcess(openssl, arguments, in: directory)
        guard status == 0 else { throw HarnessError("openssl \(arguments.first ?? "") failed: \(output)") }
        return output
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// The answer of `Tests/Harness/https_probe.py`: an HTTPS request through Envoy with SNI, checked against a CA.
struct HTTPSProbe {
    var status: Int?
    var location: String?
    var body: String
    var serial: String?
    var error: String?

    /// The backend that answered (backends.py names itself in its JSON body).
    var backend: String? {
        guard let data = body.data(using: .utf8),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return json["backend"] as? String
    }

    static func send(
        port: Int, host: String, path: String, ca: String, client: (certificate: String, key: String)? = nil,
        proxyHeader: Bool = false
    ) throws -> HTTPSProbe {
        let script = repositoryRoot.appendingPathComponent("Tests/Harness/https_probe.py").path
        var arguments = ["python3", script] + (proxyHeader ? ["--proxy-header"] : []) + ["\(port)", host, path, ca]
        if let client { arguments += [client.certificate, client.key] }
        let (_, output) = try runProcess("/usr/bin/env", arguments)
        guard let line = output.split(separator: "\n").last, let data = line.data(using: .utf8),
            let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw HarnessError("https_probe.py said: \(output)") }
        return HTTPSProbe(
            status: json["status"] as? Int, location: json["location"] as? String, body: json["body"] as? String ?? "",
            serial: json["serial"] as? String, error: json["error"] as? String)
    }
}
