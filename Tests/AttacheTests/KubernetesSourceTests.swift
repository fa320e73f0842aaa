import Foundation
import XCTest
import YAML

@testable import Attache

/// `--kubernetes`: the sidecar lists and watches a (fake, protocol-faithful) API server on loopback, and a real
/// Envoy on its output follows the cluster through changes and injected faults without a failed request.
final class KubernetesSourceTests: XCTestCase {
    static func mapping(_ name: String, prefix: String, service: String, extra: [String: Any] = [:]) -> [String: Any] {
        var spec: [String: Any] = ["hostname": "*", "prefix": prefix, "service": service]
        spec.merge(extra) { _, new in new }
        return [
            "apiVersion": "getambassador.io/v3alpha1", "kind": "Mapping",
            "metadata": ["name": name, "namespace": "default"], "spec": spec,
        ]
    }

    static func endpointSlice(port: Int) -> [String: Any] {
        [
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": [
                "name": "pods-abcde", "namespace": "default", "labels": ["kubernetes.io/service-name": "pods"],
            ],
            "addressType": "IPv4",
            "endpoints": [["addresses": ["127.0.0.1"], "conditions": ["ready": true]]],
            "ports": [["name": "http", "port": port, "protocol": "TCP"]],
        ]
    }

    func testSidecarFollowsTheClusterThroughFaults() throws {
        _ = try EnvoyLocator.require()
        let pki = try TestPKI()
        defer { pki.remove() }
        let backends = try LoopbackBackends(names: ["stable", "canary", "fresh", "pod1", "pod2"])
        defer { backends.stop() }
        func service(_ name: String) -> String { "127.0.0.1:\(backends.ports[name]!)" }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("attache-k8s-\(UUID().uuidString)")
        let xds = root.appendingPathComponent("xds")
        try FileManager.default.createDirectory(at: xds, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let tokenFile = root.appendingPathComponent("token").path
        try "token-one\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)

        let server = try FakeAPIServer(pki: pki, token: "token-one", absentGroups: ["argoproj.io"])
        defer { server.stop() }
        try server.apply(Self.mapping("app", prefix: "/app/", service: service("stable")))
        // Endpoint routing: a Service, its resolver, and its pods from an EndpointSlice.
        try server.apply([
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "pods", "namespace": "default"],
            "spec": ["ports": [["name": "http", "port": 80, "targetPort": 8080]]],
        ])
        try server.apply([
            "apiVersion": "getambassador.io/v3alpha1", "kind": "KubernetesEndpointResolver",
            "metadata": ["name": "endpoint", "namespace": "default"], "spec": [:],
        ])
        try server.apply(
            Self.mapping("pods", prefix: "/pods/", service: "pods", extra: ["resolver": "endpoint"]))
        try server.apply(Self.endpointSlice(port: backends.ports["pod1"]!))
        // Many objects, so that the first LIST takes several pages of over 64 KiB each.
        try server.apply(
            all: (0..<600).map { Self.mapping("bulk-\($0)", prefix: "/bulk/\($0)/", service: service("stable")) })
        let kubeconfig = root.appendingPathComponent("kubeconfig").path
        try server.kubeconfig(pki: pki, tokenFile: tokenFile).write(
            toFile: kubeconfig, atomically: true, encoding: .utf8)

        let access = try findClusterAccess(kubeconfig: kubeconfig, context: nil)
        var watch = WatchSettings()
        watch.pageSize = 250
        watch.watchTimeout = 4  // re-watching is part of the test
        watch.absentRecheck = 1
        watch.initialBackoff = 0.05
        watch.maximumBackoff = 0.5
        let log = SidecarLog()
        let say = UncheckedBox(log.io)
        let source = KubernetesInputSource(access: access, settings: watch, syncTimeout: 30) { level, message in
            say.value.writeErr("\(level.rawValue) kubernetes: \(message)")
        }
        defer { source.stop() }
        let sidecar = try BackgroundSidecar(source: source, directory: xds, log: log)
        defer { sidecar.stop() }
        let listenPort = sidecar.listenPort
        XCTAssertTrue(sidecar.waitForBootstrap(20), log.text)
        let envoy = try EnvoyProcess(bootstrapPath: sidecar.bootstrapPath, adminPort: sidecar.adminPort)
        defer { envoy.stop() }
        let client = HTTPClient(port: listenPort)
        defer { client.close() }

        /// Waits (at most `seconds`) until `path` is answered by `backend`; returns how long that took.
        func routed(_ path: String, to backend: String, within seconds: TimeInterval, _ what: String) -> TimeInterval {
            let start = Date()
            var last = ""
            let ok = waitUntil(seconds) {
                let response = try? client.send(path: path)
                last = response.map { "\($0.status) \($0.backend ?? "")" } ?? "no answer"
                return response?.backend == backend
            }
            XCTAssertTrue(
                ok, "\(what): \(path) not routed to \(backend) within \(seconds) s (last: \(last))\n\(log.text)")
            return Date().timeIntervalSince(start)
        }
        _ = routed("/app/x", to: "stable", within: 10, "initial LIST")
        _ = routed("/bulk/599/x", to: "stable", within: 2, "the last page of the LIST")
        _ = routed("/pods/x", to: "pod1", within: 2, "endpoint routing from an EndpointSlice")
        XCTAssertTrue(log.text.contains("rollouts.argoproj.io/v1alpha1 is not served"), log.text)

        // Continuous traffic on /app/ from here on: no request may fail, whatever happens to the API connection.
        let load = BackgroundLoad(port: listenPort, path: "/app/x", maxRequests: 200_000, maxSeconds: 120)
        load.start()
        defer { load.stop() }

        // A Mapping created in the cluster routes within 2 s.
        try server.apply(Self.mapping("fresh", prefix: "/fresh/", service: service("fresh")))
        let created = routed("/fresh/x", to: "fresh", within: 2, "a Mapping created")
        // A weight step splits the traffic.
        try server.apply(Self.mapping("app-canary", prefix: "/app/", service: service("canary"), extra: ["weight": 30]))
        _ = routed("/app/x", to: "canary", within: 2, "a canary Mapping added")
        let counts = try (0..<400).reduce(into: [String: Int]()) { counts, _ in
            counts[try client.send(path: "/app/x").backend ?? "failed", default: 0] += 1
        }
        assertShare(counts, "canary", 0.3, of: 400)

        // Pods change: only endpoint files are written, and traffic follows.
        let routesFile = xds.appendingPathComponent("rds.json"), clustersFile = xds.appendingPathComponent("cds.json")
        let (routesBefore, clustersBefore) = (try Data(contentsOf: routesFile), try Data(contentsOf: clustersFile))
        try server.apply(Self.endpointSlice(port: backends.ports["pod2"]!))
        _ = routed("/pods/x", to: "pod2", within: 2, "pods changed in the EndpointSlice")
        XCTAssertEqual(try Data(contentsOf: routesFile), routesBefore, "pods changed, and rds.json was rewritten")
        XCTAssertEqual(try Data(contentsOf: clustersFile), clustersBefore, "pods changed, and cds.json was rewritten")

        // Faults: after each, a change made in the cluster still arrives.
        try server.fault(["cut_watches": true])
        try server.apply(Self.mapping("after-cut", prefix: "/after-cut/", service: service("fresh")))
        _ = routed("/after-cut/x", to: "fresh", within: 5, "after the watch connections were cut")

        try server.fault(["fail_next": 3, "cut_watches": true])
        try server.apply(Self.mapping("after-500", prefix: "/after-500/", service: service("fresh")))
        _ = routed("/after-500/x", to: "fresh", within: 5, "after 500s")

        try server.fault(["retry_after_next": 2, "cut_watches": true])
        try server.apply(Self.mapping("after-429", prefix: "/after-429/", service: service("fresh")))
        _ = routed("/after-429/x", to: "fresh", within: 6, "after 429s with Retry-After")

        // A slow server (every answer a second late) delays changes, and loses none.
        try server.fault(["slow_seconds": 1.0, "cut_watches": true])
        try server.apply(Self.mapping("while-slow", prefix: "/while-slow/", service: service("fresh")))
        _ = routed("/while-slow/x", to: "fresh", within: 8, "while the server was slow")
        try server.fault(["slow_seconds": 0])

        // Locked out (every request refused), the cluster changes and its history is compacted; let back in, the
        // reflectors' watches get 410 Gone and they list again, losing nothing: the change made while they were cut
        // off arrives, the deletion too, and every other object stays.
        try server.fault(["token": "nobody-has-this", "cut_watches": true])
        XCTAssertTrue(waitUntil(5) { log.text.contains("answered 401") }, log.text)
        try server.apply(Self.mapping("during-gap", prefix: "/during-gap/", service: service("fresh")))
        try server.delete(apiVersion: "getambassador.io/v3alpha1", kind: "Mapping", name: "bulk-7")
        try server.fault(["compact": true])
        let listsBefore = try server.stats()["list"] ?? 0
        try server.fault(["token": "token-one"])
        _ = routed("/during-gap/x", to: "fresh", within: 5, "a change made while cut off, across a 410 relist")
        XCTAssertTrue(
            waitUntil(5) { (try? client.send(path: "/bulk/7/x"))?.status == 404 }, "a deletion made while cut off")
        _ = routed("/bulk/8/x", to: "stable", within: 2, "objects kept across the relist")
        XCTAssertTrue(log.text.contains("410 Gone"), log.text)
        XCTAssertGreaterThan(try server.stats()["list"] ?? 0, listsBefore, "no collection was listed again")

        // The token rotates on disk and on the server: the next requests carry the new one.
        try "token-two\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        try server.fault(["token": "token-two", "cut_watches": true])
        try server.apply(Self.mapping("after-rotation", prefix: "/after-rotation/", service: service("fresh")))
        _ = routed("/after-rotation/x", to: "fresh", within: 5, "after the token rotated")

        // A CRD installed later is picked up (looked for every second here).
        try server.fault(["serve_group": "argoproj.io"])
        XCTAssertTrue(waitUntil(5) { log.text.contains("rollouts.argoproj.io/v1alpha1: now served") }, log.text)

        // A bad object is rejected alone, and its diagnostic names it and its resourceVersion instead of a file.
        try server.apply(Self.mapping("typo", prefix: "/typo/", service: service("fresh"), extra: ["weigth": 10]))
        XCTAssertTrue(
            waitUntil(5) { log.text.contains("Mapping default/typo@") && log.text.contains("MappingUnknownField") },
            log.text)
        // translate --kubernetes: one consistent snapshot of the same cluster, the usual output.
        let captured = CommandTests.Captured()
        let io = CommandIO(writeOut: { captured.out += $0 }, writeErr: { captured.err.append($0) }) { [] }
        let status = AttacheCLI.main(["translate", "--kubernetes", "--kubeconfig", kubeconfig], io: io)
        XCTAssertEqual(status, 1, "the typo Mapping is an error: \(captured.err)")
        let printed = String(decoding: captured.out, as: UTF8.self)
        XCTAssertTrue(printed.contains("\"default/after-rotation\""), "translate --kubernetes lacks a route")
        XCTAssertFalse(printed.contains("default/typo"))
        // diff against the live cluster: the sidecar's own output is what the cluster says, so no change.
        let diffStatus = AttacheCLI.main(
            ["diff", "--old", "--kubernetes", "--kubeconfig", kubeconfig, "--new", xds.path], io: io)
        XCTAssertEqual(diffStatus, 0, "the live cluster differs from what the sidecar wrote: \(captured.err)")

        // Every fault was met (not just survived by luck).
        for seen in ["WATCH broke", "answered 500", "answered 429"] {
            XCTAssertTrue(log.text.contains(seen), "the log does not show \(seen):\n\(log.text)")
        }
        load.stop()
        XCTAssertGreaterThan(load.completed, 100)
        XCTAssertEqual(load.failures, [], "requests failed while the API connection was faulted")
        print(
            "kubernetes source: a Mapping created was routed \(Int(created * 1000)) ms later; \(load.completed) requests without a failure"
        )
    }

    /// The first LIST must finish before anything is written: an API server that refuses the token leaves the
    /// snapshot incomplete (an error naming the collection and the refusal) rather than a config from nothing.
    func testNoSnapshotFromHalfACluster() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let server = try FakeAPIServer(pki: pki, token: "right")
        defer { server.stop() }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("attache-k8s-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let kubeconfig = root.appendingPathComponent("kubeconfig").path
        try server.kubeconfig(pki: pki, token: "wrong").write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        var watch = WatchSettings()
        watch.initialBackoff = 0.05
        let source = KubernetesInputSource(
            access: try findClusterAccess(kubeconfig: kubeconfig, context: nil), settings: watch, syncTimeout: 1
        ) { _, _ in }
        defer { source.stop() }
        let snapshot = source.snapshot()
        XCTAssertTrue(snapshot.sources.isEmpty)
        let errors = snapshot.diagnostics.items.filter { $0.severity == .error }.map(\.message)
        XCTAssertFalse(errors.isEmpty)
        XCTAssertTrue(errors.contains { $0.contains("401") && $0.contains("not accepted") }, "\(errors)")
        XCTAssertFalse(errors.joined().contains("wrong"), "a diagnostic quoted the token")
    }

    /// A LIST whose `continue` token expires between pages (410) starts over and still lists every object; the
    /// collection is never replaced by half a list.
    func testListStartsOverWhenItsContinueTokenExpires() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let server = try FakeAPIServer(pki: pki, token: "t")
        defer { server.stop() }
        try server.apply(all: (0..<30).map { Self.mapping("m\($0)", prefix: "/m\($0)/", service: "web") })
        try server.fault(["expire_continue": 2])
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("attache-k8s-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let kubeconfig = root.appendingPathComponent("kubeconfig").path
        try server.kubeconfig(pki: pki, token: "t").write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        var watch = WatchSettings()
        watch.pageSize = 7
        let source = KubernetesInputSource(
            access: try findClusterAccess(kubeconfig: kubeconfig, context: nil), settings: watch, syncTimeout: 20
        ) { _, _ in }
        defer { source.stop() }
        let snapshot = source.snapshot()
        XCTAssertEqual(snapshot.diagnostics.items.filter { $0.severity == .error }.map(\.message), [])
        XCTAssertEqual(snapshot.sources.filter { $0.name.hasPrefix("Mapping ") }.count, 30)
    }

    /// Secrets are read whatever their type when they hold a certificate (`tls.crt`), as Emissary reads them (a
    /// `ca_secret` is often Opaque); Secrets without one never reach the pipeline, and one that loses its
    /// certificate leaves it.
    func testSecretsHoldingACertificateOfAnyType() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let server = try FakeAPIServer(pki: pki, token: "t")
        defer { server.stop() }
        let (certificate, key) = try pki.issue("site.example.com")
        func base64(_ file: String) throws -> String {
            try Data(contentsOf: URL(fileURLWithPath: file)).base64EncodedString()
        }
        func secret(_ name: String, type: String, data: [String: String]) -> [String: Any] {
            [
                "apiVersion": "v1", "kind": "Secret", "metadata": ["name": name, "namespace": "default"], "type": type,
                "data": data,
            ]
        }
        let pem = ["tls.crt": try base64(certificate), "tls.key": try base64(key)]
        try server.apply(all: [
            secret("site-cert", type: "kubernetes.io/tls", data: pem),
            secret("upstream-ca", type: "Opaque", data: ["tls.crt": try base64(pki.caCertificate)]),
            secret("app-password", type: "Opaque", data: ["password": Data("hunter2".utf8).base64EncodedString()]),
            secret("robot-token", type: "kubernetes.io/service-account-token", data: ["token": "dG9rZW4="]),
            Self.mapping("app", prefix: "/app/", service: "web"),
        ])
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("attache-k8s-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let kubeconfig = root.appendingPathComponent("kubeconfig").path
        try server.kubeconfig(pki: pki, token: "t").write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        let source = KubernetesInputSource(
            access: try findClusterAccess(kubeconfig: kubeconfig, context: nil), settings: WatchSettings(),
            syncTimeout: 20
        ) { _, _ in }
        defer { source.stop() }
        func secrets() -> [String] {
            source.snapshot().sources.map(\.name).filter { $0.hasPrefix("Secret ") }.map {
                String($0.split(separator: "@")[0])
            }.sorted()
        }
        XCTAssertEqual(secrets(), ["Secret default/site-cert", "Secret default/upstream-ca"])
        // The CA Secret loses its certificate: it leaves the pipeline's input.
        try server.apply(secret("upstream-ca", type: "Opaque", data: ["note": "cmV0aXJlZA=="]))
        XCTAssertTrue(waitUntil(10) { secrets() == ["Secret default/site-cert"] }, "\(secrets())")
    }

    /// Kubeconfig reading: contexts, relative paths, and authentication Attaché cannot do named in the error.
    func testKubeconfigChoicesAndRefusals() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("attache-kc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".write(
            toFile: root.appendingPathComponent("ca.crt").path, atomically: true, encoding: .utf8)
        let path = root.appendingPathComponent("config").path
        try """
        current-context: one
        contexts:
        - {name: one, context: {cluster: c1, user: u1}}
        - {name: two, context: {cluster: c2, user: u2, namespace: team}}
        - {name: three, context: {cluster: c2, user: u3}}
        clusters:
        - {name: c1, cluster: {server: "https://one.example:6443/", certificate-authority: ca.crt}}
        - {name: c2, cluster: {server: "https://two.example:6443", insecure-skip-tls-verify: true}}
        users:
        - {name: u1, user: {token: abc}}
        - {name: u2, user: {tokenFile: token}}
        - {name: u3, user: {exec: {command: aws}}}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let one = try findClusterAccess(kubeconfig: path, context: nil, environment: [:])
        XCTAssertEqual(one.server, "https://one.example:6443")
        XCTAssertNotNil(one.tls.caCertificate)
        XCTAssertEqual(one.token?.current(), "abc")
        let two = try findClusterAccess(kubeconfig: path, context: "two", environment: [:])
        XCTAssertTrue(two.tls.insecureSkipVerify)
        XCTAssertEqual(two.namespace, "team")
        if case .file(let file)? = two.token {
            XCTAssertEqual(file, root.appendingPathComponent("token").path)
        } else {
            XCTFail("tokenFile not read")
        }
        XCTAssertThrowsError(try findClusterAccess(kubeconfig: path, context: "three", environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("`exec`"), "\(error)")
        }
        XCTAssertThrowsError(try findClusterAccess(kubeconfig: path, context: "four", environment: [:]))
        // In a pod: the service account's files.
        let account = root.appendingPathComponent("sa")
        try FileManager.default.createDirectory(at: account, withIntermediateDirectories: true)
        try "pod-token".write(toFile: account.appendingPathComponent("token").path, atomically: true, encoding: .utf8)
        try "CA".write(toFile: account.appendingPathComponent("ca.crt").path, atomically: true, encoding: .utf8)
        try "edge".write(toFile: account.appendingPathComponent("namespace").path, atomically: true, encoding: .utf8)
        let pod = try findClusterAccess(
            kubeconfig: nil, context: nil,
            environment: [
                "KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443",
                "ATTACHE_SERVICEACCOUNT_DIR": account.path,
            ])
        XCTAssertEqual(pod.server, "https://10.0.0.1:443")
        XCTAssertEqual(pod.namespace, "edge")
        XCTAssertEqual(pod.token?.current(), "pod-token")
    }

    /// deploy/rbac.yaml grants get, list and watch on exactly the collections the source reads, and deploy/'s
    /// manifests are read by Attaché's own YAML reader without an error.
    func testDeployManifestsGrantWhatIsWatchedAndNoMore() throws {
        let rbac = try Data(contentsOf: repositoryRoot.appendingPathComponent("deploy/rbac.yaml"))
        let stream = try parseYAML(Array(rbac))
        var granted: Set<String> = []
        for document in stream.documents where document.root["kind"]?.scalarText == "ClusterRole" {
            for rule in document.root["rules"]?.sequence ?? [] {
                let verbs = (rule["verbs"]?.sequence ?? []).compactMap(\.scalarText)
                XCTAssertEqual(verbs.sorted(), ["get", "list", "watch"], "a rule grants more than reading")
                for group in (rule["apiGroups"]?.sequence ?? []).compactMap(\.scalarText) {
                    for resource in (rule["resources"]?.sequence ?? []).compactMap(\.scalarText) {
                        granted.insert(group + "/" + resource)
                    }
                }
            }
        }
        XCTAssertEqual(granted, Set(watchedResources.map { $0.group + "/" + $0.plural }))
        let translation = translate(
            try ["rbac.yaml", "deployment.yaml"].map { name in
                SourceFile(
                    name: name,
                    bytes: Array(try Data(contentsOf: repositoryRoot.appendingPathComponent("deploy/" + name))))
            }, options: TranslationOptions())
        XCTAssertTrue(translation.isComplete)
        XCTAssertFalse(translation.hasErrors, "\(translation.diagnostics)")
    }
}
