import XCTest

@testable import Attache

/// Mapping fields that change where a request goes or how it gets there, proven with a real Envoy and real
/// upstreams on loopback.
final class MappingFieldTrafficTests: XCTestCase {
    /// `grpc: true` speaks HTTP/2 to the upstream: an HTTP/2-only upstream answers through it, and refuses the
    /// same Mapping without the field (Envoy then speaks HTTP/1.1 and the upstream's codec drops the connection).
    func testGRPCSpeaksHTTP2ToTheUpstream() throws {
        let upstream = try HTTP2Backend()
        defer { upstream.stop() }
        let yaml = """
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: grpc}
            spec: {prefix: /helloworld.Greeter/, rewrite: "", service: "127.0.0.1:\(upstream.port)", grpc: true}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: plain}
            spec: {prefix: /plain/, service: "127.0.0.1:\(upstream.port)"}
            """
        let harness = try TrafficHarness(backends: [], yaml: yaml)
        defer { harness.stop() }
        let grpc = try harness.request("/helloworld.Greeter/SayHello", method: "POST")
        XCTAssertEqual(grpc.status, 200, grpc.text)
        XCTAssertEqual(grpc.backend, "h2")
        XCTAssertEqual(grpc.headers["x-protocol"], "HTTP/2")
        let plain = try harness.request("/plain/x")
        XCTAssertNotEqual(plain.status, 200, "an HTTP/1.1 request reached an HTTP/2-only upstream: \(plain.text)")
    }

    /// `shadow`: every request to /orders/ is answered by the primary and copied to the shadow's service, whose
    /// answers are dropped; a second shadow on the prefix is refused. `host_redirect`: the client gets a redirect,
    /// with the Location Envoy builds, and no backend sees the request.
    func testShadowMirrorsAndRedirectsAnswer() throws {
        let yaml = """
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: orders}
            spec: {prefix: /orders/, service: "@primary@"}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: orders-shadow}
            spec: {prefix: /orders/, service: "@shadow@", shadow: true}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: old-site}
            spec: {prefix: /old/, service: new.example.com, host_redirect: true, path_redirect: /new/home, redirect_response_code: 302}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: moved}
            spec: {prefix: /moved/, service: "www.example.com:8443", host_redirect: true, prefix_redirect: /here/}
            """
        let harness = try TrafficHarness(backends: ["primary", "shadow"], yaml: yaml)
        defer { harness.stop() }
        let n = 40
        let counts = try harness.count(n, path: "/orders/x")
        XCTAssertEqual(counts, ["primary": n], "the shadow must take no live traffic")
        let shadowPort = try XCTUnwrap(harness.backends.ports["shadow"])
        let mirrored = waitUntil(10) {
            let answer = try? HTTPClient(port: shadowPort).send(path: "/__requests__")
            return (answer?.echo?["count"] as? Int) == n
        }
        XCTAssertTrue(mirrored, "the shadow did not receive every request")

        let redirect = try harness.request("/old/page?a=1")
        XCTAssertEqual(redirect.status, 302)
        XCTAssertEqual(redirect.headers["location"], "http://new.example.com/new/home?a=1")
        let moved = try harness.request("/moved/deep/page")
        XCTAssertEqual(moved.status, 301)
        XCTAssertEqual(moved.headers["location"], "http://www.example.com:8443/here/deep/page")
        // explain says the same as Envoy did.
        let model = translate(SourceLoader.load(paths: [harness.inputPath]).sources, options: TranslationOptions())
            .model
        let explained = explain(ProbeRequest(host: "example.com", path: "/old/page", query: [("a", "1")]), in: model)
        XCTAssertEqual(explained.outcomes.first?.redirectLocation, "http://new.example.com/new/home?a=1")
    }

    /// `allow_upgrade: [websocket]` lets a websocket upgrade through to the upstream (101 Switching Protocols);
    /// without it Envoy strips the upgrade and the upstream answers a plain request.
    func testWebsocketUpgradePassesOnlyWhereAllowed() throws {
        let yaml = """
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: chat}
            spec: {prefix: /chat/, service: "@ws@", allow_upgrade: [websocket]}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: plain}
            spec: {prefix: /plain/, service: "@ws@"}
            """
        let harness = try TrafficHarness(backends: ["ws"], yaml: yaml)
        defer { harness.stop() }
        let upgrade = [
            ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ]
        let allowed = HTTPClient(port: harness.listenPort)
        defer { allowed.close() }
        XCTAssertEqual(try allowed.send(path: "/chat/socket", headers: upgrade).status, 101)
        let refused = HTTPClient(port: harness.listenPort)
        defer { refused.close() }
        let plain = try refused.send(path: "/plain/socket", headers: upgrade)
        XCTAssertNotEqual(plain.status, 101, "an upgrade passed a route that does not allow it")
    }

    /// `retry_policy: {retry_on: 5xx, num_retries: 1}` turns a backend that fails every other request into one
    /// that never fails to the client; the same backend without it fails half the requests.
    func testRetryPolicyRetriesFailedRequests() throws {
        let yaml = """
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: retried}
            spec: {prefix: /retried/, service: "@flaky1@", retry_policy: {retry_on: 5xx, num_retries: 1}}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: once}
            spec: {prefix: /once/, service: "@flaky2@"}
            """
        let harness = try TrafficHarness(backends: ["flaky1", "flaky2"], yaml: yaml)
        defer { harness.stop() }
        XCTAssertEqual(try harness.count(20, path: "/retried/x"), ["flaky1": 20])
        XCTAssertEqual(try harness.count(20, path: "/once/x"), ["flaky2": 10, "status:503": 10])
    }

    /// `cors`: Envoy answers a preflight from an allowed origin itself, with the allowed methods; a preflight from
    /// another origin gets no CORS headers.
    func testCORSPreflightIsAnsweredForAllowedOrigins() throws {
        let yaml = """
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: cors}
            spec: {prefix: /cors/, service: "@api@", cors: {origins: [https://shop.example.com], methods: [GET, POST], max_age: "600"}}
            """
        let harness = try TrafficHarness(backends: ["api"], yaml: yaml)
        defer { harness.stop() }
        let preflight = try harness.request(
            "/cors/items", method: "OPTIONS",
            headers: [("Origin", "https://shop.example.com"), ("Access-Control-Request-Method", "POST")])
        XCTAssertEqual(preflight.status, 200)
        XCTAssertEqual(preflight.headers["access-control-allow-origin"], "https://shop.example.com")
        XCTAssertEqual(preflight.headers["access-control-allow-methods"], "GET, POST")
        XCTAssertEqual(preflight.headers["access-control-max-age"], "600")
        let stranger = try harness.request(
            "/cors/items", method: "OPTIONS",
            headers: [("Origin", "https://evil.example.com"), ("Access-Control-Request-Method", "POST")])
        XCTAssertNil(stranger.headers["access-control-allow-origin"], "\(stranger.headers)")
    }

    /// `load_balancer: {policy: ring_hash, header: x-user}` over three pods sends every request of one user to one
    /// pod, and different users to more than one.
    func testRingHashKeepsAUserOnOnePod() throws {
        let yaml = """
            apiVersion: getambassador.io/v2
            kind: KubernetesEndpointResolver
            metadata: {name: endpoint}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: sticky}
            spec: {prefix: /sticky/, service: echo, resolver: endpoint, load_balancer: {policy: ring_hash, header: x-user}}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: echo}
            spec: {ports: [{name: http, port: 80}]}
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: echo}
            subsets:
            - addresses: [{ip: 127.0.0.1}]
              ports: [{name: http, port: @pod1.port@}]
            - addresses: [{ip: 127.0.0.1}]
              ports: [{name: http, port: @pod2.port@}]
            - addresses: [{ip: 127.0.0.1}]
              ports: [{name: http, port: @pod3.port@}]
            """
        let harness = try TrafficHarness(backends: ["pod1", "pod2", "pod3"], yaml: yaml)
        defer { harness.stop() }
        var podOfUser: [String: String] = [:]
        for user in (0..<12).map({ "user-\($0)" }) {
            let counts = try harness.count(10, path: "/sticky/x", headers: [("x-user", user)])
            XCTAssertEqual(counts.count, 1, "\(user) was spread over \(counts)")
            podOfUser[user] = counts.keys.first
        }
        XCTAssertGreaterThan(Set(podOfUser.values).count, 1, "every user went to one pod: \(podOfUser)")
    }

    /// `service: https://name`: Envoy speaks TLS to the upstream and sends the name in the handshake (SNI), which
    /// virtual-hosted TLS servers need.
    func testHTTPSServiceSendsTheNameInTheHandshake() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "attache-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let made = try runProcess(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", key,
                "-out", certificate,
            ])
        XCTAssertEqual(made.status, 0, made.output)
        let yaml = """
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: secure}
            spec: {prefix: /secure/, service: "https://@tls1@"}
            """
        let harness = try TrafficHarness(
            backends: ["tls1"], yaml: yaml, viaDNS: true, tls: (certificate, key))
        defer { harness.stop() }
        let answer = try harness.request("/secure/x")
        XCTAssertEqual(answer.status, 200, answer.text)
        XCTAssertEqual(answer.backend, "tls1")
        XCTAssertEqual(answer.echo?["sni"] as? String, "localhost")
    }
}
