import Foundation
import XCTest

@testable import Attache

/// Listeners, Hosts, TLSContexts and Secrets, proven with a real Envoy: TLS with a CA made in the test, the
/// certificate chosen by SNI, what a Host does with cleartext, client certificates, a certificate renewed under
/// `attache watch`, and no secret material outside the secret files.
final class EdgeTrafficTests: XCTestCase {
    /// Two Listeners (HTTPS and HTTP, securityModel XFP) and three Hosts with certificates: a.example.com redirects
    /// cleartext (the default), b.example.com routes it (and takes its Mapping by label), c.example.com rejects it.
    static func edgeYAML(https: Int, http: Int, pki: TestPKI, secrets: [String] = ["a", "b", "c"]) throws -> String {
        var yaml = """
            apiVersion: getambassador.io/v3alpha1
            kind: Listener
            metadata: {name: https, namespace: default}
            spec: {port: \(https), protocol: HTTPS, securityModel: XFP, hostBinding: {namespace: {from: ALL}}}
            ---
            apiVersion: getambassador.io/v3alpha1
            kind: Listener
            metadata: {name: http, namespace: default}
            spec: {port: \(http), protocol: HTTP, securityModel: XFP, hostBinding: {namespace: {from: ALL}}}
            ---
            apiVersion: getambassador.io/v3alpha1
            kind: Host
            metadata: {name: a, namespace: default}
            spec: {hostname: a.example.com, tlsSecret: {name: a-cert}}
            ---
            apiVersion: getambassador.io/v3alpha1
            kind: Host
            metadata: {name: b, namespace: default}
            spec:
              hostname: b.example.com
              tlsSecret: {name: b-cert}
              mappingSelector: {matchLabels: {tenant: b}}
              requestPolicy: {insecure: {action: Route}}
            ---
            apiVersion: getambassador.io/v3alpha1
            kind: Host
            metadata: {name: c, namespace: default}
            spec: {hostname: c.example.com, tlsSecret: {name: c-cert}, requestPolicy: {insecure: {action: Reject}}}
            ---
            apiVersion: getambassador.io/v3alpha1
            kind: Mapping
            metadata: {name: a-app, namespace: default}
            spec: {hostname: a.example.com, prefix: /app/, service: "@a@"}
            ---
            apiVersion: getambassador.io/v3alpha1
            kind: Mapping
            metadata: {name: b-app, namespace: default, labels: {tenant: b}}
            spec: {prefix: /app/, service: "@b@"}
            ---
            apiVersion: getambassador.io/v3alpha1
            kind: Mapping
            metadata: {name: c-app, namespace: default}
            spec: {hostname: c.example.com, prefix: /app/, service: "@c@"}

            """
        for name in secrets {
            let issued = try pki.issue("\(name).example.com")
            yaml += try pki.secretYAML(name: "\(name)-cert", certificate: issued.certificate, key: issued.key)
        }
        return yaml
    }

    func testTLSBySNIAndWhatHostsDoWithCleartext() throws {
        _ = try EnvoyLocator.require()
        let pki = try TestPKI()
        defer { pki.remove() }
        let https = try freeLoopbackPort(), http = try freeLoopbackPort()
        let harness = try TrafficHarness(
            backends: ["a", "b", "c"], yaml: try Self.edgeYAML(https: https, http: http, pki: pki))
        defer { harness.stop() }

        // HTTPS: each name gets its own certificate (the probe checks it against the CA and the name) and backend.
        for name in ["a", "b", "c"] {
            let probe = try HTTPSProbe.send(
                port: https, host: "\(name).example.com", path: "/app/x", ca: pki.caCertificate)
            XCTAssertNil(probe.error, "\(name): \(probe.error ?? "")")
            XCTAssertEqual(probe.status, 200, "\(name): \(probe.body)")
            XCTAssertEqual(probe.backend, name)
        }
        // A name no Host has: no TLS chain, so no handshake.
        let unknown = try HTTPSProbe.send(port: https, host: "d.example.com", path: "/app/x", ca: pki.caCertificate)
        XCTAssertNotNil(unknown.error, "a TLS handshake succeeded for a name no Host serves")

        // Cleartext: Redirect (the default) answers 301 to https; Route routes; Reject answers 404.
        let client = HTTPClient(port: http)
        defer { client.close() }
        let redirected = try client.send(path: "/app/x?q=1", host: "a.example.com")
        XCTAssertEqual(redirected.status, 301)
        XCTAssertEqual(redirected.headers["location"], "https://a.example.com/app/x?q=1")
        XCTAssertNil(redirected.backend)
        let routed = try client.send(path: "/app/x", host: "b.example.com")
        XCTAssertEqual(routed.status, 200)
        XCTAssertEqual(routed.backend, "b")
        let rejected = try client.send(path: "/app/x", host: "c.example.com")
        XCTAssertEqual(rejected.status, 404)
        XCTAssertNil(rejected.backend)
        // A client claiming https in X-Forwarded-Proto over cleartext is not believed (l7Depth 0): still redirected.
        let claimed = try client.send(path: "/app/x", host: "a.example.com", headers: [("X-Forwarded-Proto", "https")])
        XCTAssertEqual(claimed.status, 301)

        // explain says the same as Envoy did.
        for (url, status) in [
            ("https://a.example.com/app/x", 0), ("http://a.example.com/app/x", 0), ("http://c.example.com/app/x", 1),
        ] {
            let request = try ProbeRequest.parse(method: nil, url: url, headers: [])
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: harness.inputPath)))
            let translation = translate([SourceFile(name: "input.yaml", bytes: bytes)], options: TranslationOptions())
            let explanation = explain(request, in: translation.model)
            XCTAssertEqual(explanation.isRouted ? 0 : 1, status, "\(url): \(explanation.text)")
            if url.hasPrefix("http://a") {
                XCTAssertEqual(explanation.outcomes.first?.redirectLocation, "https://a.example.com/app/x")
            }
        }
    }

    /// A TLSContext with `ca_secret` and `cert_required`: a client without a certificate from that CA gets no
    /// handshake, one with it is routed. The Listener speaks the PROXY protocol before TLS (HTTPSPROXY): the
    /// client's PROXY header comes first, then the handshake (in Emissary's filter order it would fail).
    func testClientCertificateRequired() throws {
        _ = try EnvoyLocator.require()
        let pki = try TestPKI()
        defer { pki.remove() }
        let https = try freeLoopbackPort()
        let server = try pki.issue("mtls.example.com")
        let client = try pki.issue("client", client: true)
        var yaml = """
            apiVersion: getambassador.io/v3alpha1
            kind: Listener
            metadata: {name: https, namespace: default}
            spec: {port: \(https), protocol: HTTPSPROXY, securityModel: SECURE, hostBinding: {namespace: {from: ALL}}}
            ---
            apiVersion: getambassador.io/v3alpha1
            kind: Host
            metadata: {name: mtls, namespace: default}
            spec: {hostname: mtls.example.com, tlsSecret: {name: mtls-cert}, tlsContext: {name: mtls-context}}
            ---
            apiVersion: getambassador.io/v3alpha1
            kind: TLSContext
            metadata: {name: mtls-context, namespace: default}
            spec: {hosts: [mtls.example.com], secret: mtls-cert, ca_secret: client-ca, cert_required: true, min_tls_version: v1.2}
            ---
            apiVersion: getambassador.io/v3alpha1
            kind: Mapping
            metadata: {name: app, namespace: default}
            spec: {hostname: mtls.example.com, prefix: /app/, service: "@app@"}

            """
        yaml += try pki.secretYAML(name: "mtls-cert", certificate: server.certificate, key: server.key)
        yaml += try pki.secretYAML(name: "client-ca", certificate: pki.caCertificate, key: nil)
        let harness = try TrafficHarness(backends: ["app"], yaml: yaml)
        defer { harness.stop() }
        let without = try HTTPSProbe.send(
            port: https, host: "mtls.example.com", path: "/app/x", ca: pki.caCertificate, proxyHeader: true)
        XCTAssertTrue(
            without.error != nil || (without.status ?? 0) >= 400,
            "a client without a certificate was served: \(without)")
        XCTAssertNil(without.status.flatMap { $0 == 200 ? $0 : nil })
        let with = try HTTPSProbe.send(
            port: https, host: "mtls.example.com", path: "/app/x", ca: pki.caCertificate, client: client,
            proxyHeader: true)
        XCTAssertNil(with.error, with.error ?? "")
        XCTAssertEqual(with.status, 200, with.body)
        XCTAssertEqual(with.backend, "app")
        // Envoy took the client's address from the PROXY header.
        let echoed = (try? JSONSerialization.jsonObject(with: Data(with.body.utf8))) as? [String: Any]
        XCTAssertEqual((echoed?["headers"] as? [String: String])?["x-forwarded-for"], "203.0.113.7")
    }

    /// Under `attache watch`, a renewed certificate (a new Secret in the input) is served to the next connection,
    /// through the secret's SDS file alone: the listeners file is not rewritten. Secret files are 0600 in a 0700
    /// directory, and no other file (nor the log) holds the key or the certificate, in base64 or PEM.
    func testRenewedCertificateUnderWatchAndSecretsStayInTheirFiles() throws {
        _ = try EnvoyLocator.require()
        let pki = try TestPKI()
        defer { pki.remove() }
        let backends = try LoopbackBackends(names: ["a", "b", "c"])
        defer { backends.stop() }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("attache-renew-\(UUID().uuidString)")
        let input = root.appendingPathComponent("input"), xds = root.appendingPathComponent("xds")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: xds, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let https = try freeLoopbackPort(), http = try freeLoopbackPort()
        func render(_ text: String) -> String {
            var text = text
            for (name, port) in backends.ports {
                text = text.replacingOccurrences(of: "@\(name)@", with: "127.0.0.1:\(port)")
            }
            return text
        }
        // a.example.com's Secret in a file of its own, so that renewing it rewrites that file alone.
        try render(try Self.edgeYAML(https: https, http: http, pki: pki, secrets: ["b", "c"])).write(
            to: input.appendingPathComponent("edge.yaml"), atomically: true, encoding: .utf8)
        let original = try pki.issue("a.example.com")
        try pki.secretYAML(name: "a-cert", certificate: original.certificate, key: original.key).write(
            to: input.appendingPathComponent("a-cert.yaml"), atomically: true, encoding: .utf8)

        let sidecar = try BackgroundSidecar(source: FileInputSource(paths: [input.path]), directory: xds)
        defer { sidecar.stop() }
        let log = sidecar.log
        XCTAssertTrue(sidecar.waitForBootstrap(5), log.text)
        let envoy = try EnvoyProcess(bootstrapPath: sidecar.bootstrapPath, adminPort: sidecar.adminPort)
        defer { envoy.stop() }

        var first = HTTPSProbe(body: "")
        XCTAssertTrue(
            waitUntil(10) {
                first =
                    (try? HTTPSProbe.send(port: https, host: "a.example.com", path: "/app/x", ca: pki.caCertificate))
                    ?? first
                return first.status == 200
            }, "a.example.com never served over TLS: \(first)\n\(log.text)")
        let listenersBefore = try Data(contentsOf: xds.appendingPathComponent("lds.json"))

        // Renew a.example.com's certificate: a new key and serial in the same Secret.
        let renewed = try pki.issue("a.example.com")
        try pki.secretYAML(name: "a-cert", certificate: renewed.certificate, key: renewed.key).write(
            to: input.appendingPathComponent("a-cert.yaml"), atomically: true, encoding: .utf8)
        let wanted = try pki.serialHex(of: renewed.certificate)
        var latest = first
        XCTAssertTrue(
            waitUntil(10) {
                latest =
                    (try? HTTPSProbe.send(port: https, host: "a.example.com", path: "/app/x", ca: pki.caCertificate))
                    ?? latest
                return latest.serial == wanted && latest.status == 200
            }, "the renewed certificate (serial \(wanted)) was not served; last: \(latest)\n\(log.text)")
        XCTAssertEqual(
            try Data(contentsOf: xds.appendingPathComponent("lds.json")), listenersBefore,
            "renewing a certificate rewrote the listeners")

        // Secret material: only in secrets/*.json, each 0600, the directory 0700.
        let secretsDirectory = xds.appendingPathComponent("secrets").path
        let attributes = try FileManager.default.attributesOfItem(atPath: secretsDirectory)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o700)
        let secretFiles = try FileManager.default.contentsOfDirectory(atPath: secretsDirectory)
        XCTAssertEqual(secretFiles.sorted(), ["default.a-cert.json", "default.b-cert.json", "default.c-cert.json"])
        for name in secretFiles {
            let mode = try FileManager.default.attributesOfItem(atPath: secretsDirectory + "/" + name)[
                .posixPermissions]
            XCTAssertEqual((mode as? NSNumber)?.intValue, 0o600, name)
        }
        let translateOut = root.appendingPathComponent("translate-out")
        let captured = CommandTests.Captured()
        let io = CommandIO(writeOut: { captured.out += $0 }, writeErr: { captured.err.append($0) }) { [] }
        XCTAssertEqual(
            AttacheCLI.main(["translate", "--output", translateOut.path, input.path], io: io), 0, captured.err.joined())
        _ = AttacheCLI.main(["translate", input.path], io: io)
        _ = AttacheCLI.main(["diff", translateOut.path, xds.path], io: io)
        _ = AttacheCLI.main(["explain", input.path, "https://a.example.com/app/x"], io: io)
        var exposures: [String] = []
        let keys = try FileManager.default.contentsOfDirectory(atPath: pki.directory.path).filter {
            $0.hasSuffix(".key")
        }
        for key in [renewed.certificate] + keys.map(pki.path) {
            let pem = try String(contentsOfFile: key, encoding: .utf8)
            // A line from the middle of the PEM body, and the same bytes as Kubernetes stores them (base64).
            let lines = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }
            let needles = [
                String(lines[lines.count / 2]), String(Data(pem.utf8).base64EncodedString().prefix(200).dropFirst(100)),
            ]
            for directory in [xds, translateOut] {
                for file in FileManager.default.subpaths(atPath: directory.path) ?? []
                where !file.hasPrefix("secrets/") && file != "secrets" {
                    guard let text = try? String(contentsOfFile: directory.path + "/" + file, encoding: .utf8) else {
                        continue
                    }
                    for needle in needles where text.contains(needle) {
                        exposures.append("\(directory.lastPathComponent)/\(file)")
                    }
                }
            }
            let said = log.text + String(decoding: captured.out, as: UTF8.self) + captured.err.joined(separator: "\n")
            for needle in needles where said.contains(needle) { exposures.append("log or command output") }
        }
        XCTAssertEqual(exposures, [], "secret material outside the secret files")
        // The search can find what it looks for: the renewed key's PEM is in its own secret file.
        let renewedKeyLines = try String(contentsOfFile: renewed.key, encoding: .utf8).split(separator: "\n")
        let secretFile = try String(contentsOfFile: secretsDirectory + "/default.a-cert.json", encoding: .utf8)
        XCTAssertTrue(secretFile.contains(String(renewedKeyLines[renewedKeyLines.count / 2])))
    }

    /// The Module's access log: a request through Envoy is one line in the configured format, in the file named.
    func testAccessLogLineInTheConfiguredFormat() throws {
        _ = try EnvoyLocator.require()
        let logFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "attache-access-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: logFile) }
        let yaml = """
            apiVersion: getambassador.io/v3alpha1
            kind: Module
            metadata: {name: ambassador, namespace: default}
            spec:
              config:
                envoy_log_path: \(logFile.path)
                envoy_log_format: "ACCESS %REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %RESPONSE_CODE% %UPSTREAM_CLUSTER% [%REQ(X-TRACE)%]"
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: app}
            spec: {prefix: /app/, service: "@app@"}
            """
        let harness = try TrafficHarness(backends: ["app"], yaml: yaml)
        defer { harness.stop() }
        let response = try harness.request("/app/logged?x=1", headers: [("x-trace", "t-42")])
        XCTAssertEqual(response.status, 200)
        _ = try harness.request("/nowhere")
        var text = ""
        // Envoy flushes access log files every 10 s (`--file-flush-interval-msec`), and when it stops.
        harness.envoy.stop()
        XCTAssertTrue(
            waitUntil(15) {
                text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
                return text.split(separator: "\n").count >= 2
            }, "no access log lines in \(logFile.path): \(text)")
        let lines = text.split(separator: "\n").map(String.init)
        let cluster = try XCTUnwrap(
            readEnvoyConfig(harness.directory.appendingPathComponent("out").path)?.model.clusters.first?.name)
        XCTAssertEqual(lines.first, "ACCESS GET /app/logged?x=1 200 \(cluster) [t-42]")
        XCTAssertEqual(lines.dropFirst().first, "ACCESS GET /nowhere 404 - [-]")
    }

    /// An AuthService (ext_authz over HTTP) in front of the routes: a request the service allows reaches the
    /// upstream with the header the service added; one it denies gets the service's 403 and never reaches the
    /// upstream; a `bypass_auth` route is not checked at all; the check goes to `path_prefix` + the path.
    func testAuthServiceAllowsDeniesAndIsBypassed() throws {
        _ = try EnvoyLocator.require()
        let yaml = """
            apiVersion: getambassador.io/v3alpha1
            kind: AuthService
            metadata: {name: authentication, namespace: default}
            spec:
              auth_service: "@auth@"
              path_prefix: /check
              allowed_request_headers: [x-allow]
              allowed_authorization_headers: [x-user]
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: app}
            spec: {prefix: /app/, service: "@app@"}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: public}
            spec: {prefix: /public/, service: "@app@", bypass_auth: true}
            """
        let harness = try TrafficHarness(backends: ["app", "auth"], yaml: yaml)
        defer { harness.stop() }
        let allowed = try harness.request("/app/x", headers: [("x-allow", "yes")])
        XCTAssertEqual(allowed.status, 200, allowed.text)
        XCTAssertEqual(allowed.backend, "app")
        XCTAssertEqual((allowed.echo?["headers"] as? [String: String])?["x-user"], "alice")
        let denied = try harness.request("/app/x")
        XCTAssertEqual(denied.status, 403, denied.text)
        XCTAssertNil(denied.backend)
        XCTAssertEqual(denied.headers["www-authenticate"], "Bearer")
        let bypassed = try harness.request("/public/x")
        XCTAssertEqual(bypassed.status, 200, bypassed.text)
        XCTAssertEqual(bypassed.backend, "app")
        // The service saw exactly the two checked requests, under its path prefix.
        let checks = try HTTPClient(port: harness.backends.ports["auth"]!).send(path: "/__requests__")
        let seen = try JSONSerialization.jsonObject(with: Data(checks.body)) as? [String: Any]
        XCTAssertEqual(seen?["paths"] as? [String], ["/check/app/x", "/check/app/x"])
    }

    /// A Mapping's `tls: CONTEXT` (upstream TLS): Envoy presents the context's certificate to an upstream that
    /// requires one, checks the upstream's certificate against the context's CA, and sends the context's SNI. The
    /// same upstream through plain `tls: true` (no client certificate) and through a context trusting another CA both
    /// fail (503), which shows that each part is really in use.
    func testMappingTLSContextOriginatesTLS() throws {
        _ = try EnvoyLocator.require()
        let pki = try TestPKI()
        defer { pki.remove() }
        let other = try TestPKI()
        defer { other.remove() }
        let upstream = try pki.issue("tls.example.com")
        let client = try pki.issue("attache-client", client: true)
        var yaml = """
            apiVersion: getambassador.io/v3alpha1
            kind: TLSContext
            metadata: {name: upstream, namespace: default}
            spec: {secret: client-cert, ca_secret: upstream-ca, sni: tls.example.com, min_tls_version: v1.2}
            ---
            apiVersion: getambassador.io/v3alpha1
            kind: TLSContext
            metadata: {name: wrong-ca, namespace: default}
            spec: {secret: client-cert, ca_secret: other-ca, sni: tls.example.com}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: secure, namespace: default}
            spec: {prefix: /secure/, service: "@tlsapp@", tls: upstream}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: plain-tls, namespace: default}
            spec: {prefix: /plain-tls/, service: "@tlsapp@", tls: true}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: wrong, namespace: default}
            spec: {prefix: /wrong/, service: "@tlsapp@", tls: wrong-ca}

            """
        yaml += try pki.secretYAML(name: "client-cert", certificate: client.certificate, key: client.key)
        yaml += try pki.secretYAML(name: "upstream-ca", certificate: pki.caCertificate, key: nil)
        yaml += try pki.secretYAML(name: "other-ca", certificate: other.caCertificate, key: nil)
        let harness = try TrafficHarness(
            backends: ["tlsapp"], yaml: yaml, tls: upstream, backendClientCA: pki.caCertificate)
        defer { harness.stop() }
        let secure = try harness.request("/secure/x")
        XCTAssertEqual(secure.status, 200, secure.text)
        XCTAssertEqual(secure.backend, "tlsapp")
        XCTAssertEqual(secure.echo?["sni"] as? String, "tls.example.com")
        XCTAssertEqual(try harness.request("/plain-tls/x").status, 503, "no client certificate, yet served")
        XCTAssertEqual(try harness.request("/wrong/x").status, 503, "an upstream certificate from another CA accepted")
    }
}
