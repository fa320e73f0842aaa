import XCTest

/// Routing proven with real traffic: a real Envoy on the bootstrap `attache translate` writes, real loopback
/// backends, and counts of where requests land (see Support/TrafficHarness.swift).
final class TrafficTests: XCTestCase {
    /// A v2 Mapping CRD; `extra` lines go under `spec`.
    func mapping(_ name: String, _ prefix: String, _ service: String, _ extra: String...) -> String {
        var text =
            "---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata:\n  name: \(name)\nspec:\n  prefix: \(prefix)\n  service: \(service)\n"
        for line in extra { text += "  \(line)\n" }
        return text
    }

    /// The 000 seed: stable + canary `weight: 30` → 30% canary. Backends named through DNS (`localhost`), so
    /// the STRICT_DNS clusters are exercised too.
    func testSeed000CanaryTakesThirtyPercent() throws {
        let harness = try TrafficHarness(
            backends: ["stable", "canary"],
            yaml: mapping("stable-mapping", "/someapp", "@stable@", "rewrite: /")
                + mapping("canary-mapping", "/someapp", "@canary@", "rewrite: /", "weight: 30"),
            viaDNS: true)
        defer { harness.stop() }
        let counts = try harness.count(2000, path: "/someapp/page")
        assertShare(counts, "canary", 0.30, of: 2000)
        assertShare(counts, "stable", 0.70, of: 2000)
    }

    /// The 002 seed: `svc1` + `service-gray` with `weight: 20`, and `headers: {gray: true}` sends every request
    /// carrying a `gray` header (whatever its value) to the gray service. A quoted "true" matches only `true`.
    func testSeed002GreyReleaseByWeightAndHeader() throws {
        let yaml = """
            apiVersion: v1
            kind: Service
            metadata:
              name: svc1
              annotations:
                getambassador.io/config: |
                  ---
                  apiVersion: ambassador/v0
                  kind:  Mapping
                  name:  svc1_mapping
                  prefix: /svc/
                  service: @svc1@
                  ---
                  apiVersion: ambassador/v0
                  kind:  Mapping
                  name:  svc1_gray_mapping
                  prefix: /svc/
                  service: @gray@
                  weight: 20
                  ---
                  apiVersion: ambassador/v0
                  kind:  Mapping
                  name:  svc1_gray_header_mapping
                  prefix: /svc/
                  service: @gray@
                  headers:
                    gray: true
                  ---
                  apiVersion: ambassador/v0
                  kind:  Mapping
                  name:  quoted_plain
                  prefix: /quoted/
                  service: @svc1@
                  ---
                  apiVersion: ambassador/v0
                  kind:  Mapping
                  name:  quoted_header
                  prefix: /quoted/
                  service: @gray@
                  headers:
                    gray: "true"
            """
        let harness = try TrafficHarness(backends: ["svc1", "gray"], yaml: yaml)
        defer { harness.stop() }
        assertShare(try harness.count(2000, path: "/svc/x"), "gray", 0.20, of: 2000)
        for value in ["true", "yes", "1", "anything"] {
            XCTAssertEqual(
                try harness.count(50, path: "/svc/x", headers: [("gray", value)]), ["gray": 50], "gray: \(value)")
        }
        XCTAssertEqual(try harness.count(50, path: "/quoted/x", headers: [("gray", "true")]), ["gray": 50])
        XCTAssertEqual(try harness.count(50, path: "/quoted/x", headers: [("gray", "yes")]), ["svc1": 50])
        XCTAssertEqual(try harness.count(50, path: "/quoted/x"), ["svc1": 50])
    }

    /// SEMANTICS.md §3: 20/30/rest, three unweighted (33/33/34), and weights summing under 100 falling through to
    /// a shorter prefix.
    func testThreeWaySplitsAndFallThrough() throws {
        let yaml =
            mapping("a", "/shop3/", "@a@", "weight: 20") + mapping("b", "/shop3/", "@b@", "weight: 30")
            + mapping("c", "/shop3/", "@c@")
            + mapping("one", "/even/", "@a@") + mapping("two", "/even/", "@b@") + mapping("three", "/even/", "@c@")
            + mapping("fa", "/shop/", "@a@", "weight: 20") + mapping("fb", "/shop/", "@b@", "weight: 30")
            + mapping("fallback", "/", "@fallback@")
        let harness = try TrafficHarness(backends: ["a", "b", "c", "fallback"], yaml: yaml)
        defer { harness.stop() }
        let three = try harness.count(3000, path: "/shop3/")
        assertShare(three, "a", 0.20, of: 3000)
        assertShare(three, "b", 0.30, of: 3000)
        assertShare(three, "c", 0.50, of: 3000)
        // Processing order is by name: one, three, two → 33 / 33 / 34 in that order.
        let even = try harness.count(3000, path: "/even/")
        assertShare(even, "a", 0.33, of: 3000)
        assertShare(even, "c", 0.33, of: 3000)
        assertShare(even, "b", 0.34, of: 3000)
        let fallThrough = try harness.count(3000, path: "/shop/")
        assertShare(fallThrough, "a", 0.20, of: 3000)
        assertShare(fallThrough, "b", 0.30, of: 3000)
        assertShare(fallThrough, "fallback", 0.50, of: 3000)
    }

    /// SEMANTICS.md §4: a header route beats the plain route of its prefix, a longer prefix beats a shorter one,
    /// precedence beats both; a v2 `host` routes only for its host, exact or glob (Emissary's conversion makes it
    /// `hostname`); `method: POST` only for POST.
    func testRouteOrderHostsAndMethods() throws {
        let yaml =
            mapping("plain", "/api/", "@plain@") + mapping("beta", "/api/", "@beta@", "headers:", "  x-beta: \"on\"")
            + mapping("v1", "/api/v1/", "@v1@")
            + mapping("plain2", "/p/", "@plain@") + mapping("longer", "/p/long/", "@v1@")
            + mapping("urgent", "/p/", "@urgent@", "precedence: 5", "headers:", "  x-urgent: \"1\"")
            + mapping("exact-host", "/h/", "@beta@", "host: shop.example.com")
            + mapping("glob", "/h/", "@v1@", "host: \"*.example.org\"")
            + mapping("any-host", "/h/", "@plain@")
            + mapping("post", "/form/", "@urgent@", "method: POST") + mapping("any-method", "/form/", "@plain@")
        let harness = try TrafficHarness(backends: ["plain", "beta", "v1", "urgent"], yaml: yaml)
        defer { harness.stop() }
        func only(
            _ backend: String, _ path: String, method: String = "GET", host: String = "example.com",
            headers: [(String, String)] = [], line: UInt = #line
        ) throws {
            XCTAssertEqual(
                try harness.count(20, path: path, method: method, host: host, headers: headers), [backend: 20],
                "\(method) \(host)\(path) \(headers)", line: line)
        }
        try only("beta", "/api/x", headers: [("x-beta", "on")])
        try only("plain", "/api/x", headers: [("x-beta", "off")])
        try only("v1", "/api/v1/x", headers: [("x-beta", "on")])  // longer prefix first, even against a header route
        try only("urgent", "/p/long/x", headers: [("x-urgent", "1")])  // precedence beats the longer prefix
        try only("v1", "/p/long/x")
        try only("plain", "/p/x")
        try only("beta", "/h/", host: "shop.example.com")
        try only("beta", "/h/", host: "SHOP.example.com")
        try only("v1", "/h/", host: "api.example.org")
        try only("plain", "/h/", host: "example.org")
        try only("plain", "/h/", host: "shop.example.com.evil")
        try only("urgent", "/form/", method: "POST")
        try only("plain", "/form/", method: "GET")
        XCTAssertEqual(try harness.request("/nowhere").status, 404)
    }

    /// Rewrites: the backend sees `/` for the default, the untouched path for `rewrite: ""`, the custom rewrite
    /// (for prefix, exact and regex matches), and the Host header after `host_rewrite`.
    func testRewritesReachTheBackend() throws {
        let yaml =
            mapping("default-rewrite", "/default/", "@echo@") + mapping("keep", "/keep/", "@echo@", "rewrite: \"\"")
            + mapping("custom", "/old/", "@echo@", "rewrite: /new/")
            + mapping("exact", "/exact/path", "@echo@", "prefix_exact: true", "rewrite: /other")
            + mapping("regex", "\"/items/[0-9]+\"", "@echo@", "prefix_regex: true", "rewrite: /item")
            + mapping(
                "host", "/host/", "@echo@", "host_rewrite: internal.example.com", "add_request_headers:",
                "  x-added: yes-it-is")
            + mapping("insensitive", "/CaSe/", "@echo@", "case_sensitive: false", "rewrite: \"\"")
        let harness = try TrafficHarness(backends: ["echo"], yaml: yaml)
        defer { harness.stop() }
        func seen(_ path: String, host: String = "example.com") throws -> [String: Any] {
            let response = try harness.request(path, host: host)
            XCTAssertEqual(response.status, 200, "\(path): \(response.text)")
            return response.echo ?? [:]
        }
        XCTAssertEqual(try seen("/default/a/b")["path"] as? String, "/a/b")
        XCTAssertEqual(try seen("/keep/a")["path"] as? String, "/keep/a")
        XCTAssertEqual(try seen("/old/a?x=1")["path"] as? String, "/new/a?x=1")
        XCTAssertEqual(try seen("/exact/path")["path"] as? String, "/other")
        XCTAssertEqual(try harness.request("/exact/path/more").status, 404, "prefix_exact matches only the exact path")
        XCTAssertEqual(try seen("/items/42")["path"] as? String, "/item")
        XCTAssertEqual(try harness.request("/items/abc").status, 404, "the regex must match the whole path")
        XCTAssertEqual(try seen("/case/x")["path"] as? String, "/case/x")
        let host = try seen("/host/x", host: "public.example.com")
        XCTAssertEqual(host["host"] as? String, "internal.example.com")
        XCTAssertEqual((host["headers"] as? [String: String])?["x-added"], "yes-it-is")
        XCTAssertEqual(
            try seen("/default/x", host: "public.example.com")["host"] as? String, "public.example.com",
            "no host_rewrite keeps Host")
    }
}

/// Endpoint routing (`resolver: endpoint`) through a real Envoy reading its endpoints from EDS files: traffic
/// reaches every ready pod listed in Endpoints / EndpointSlices and nothing else.
final class EndpointTrafficTests: XCTestCase {
    func testTrafficSpreadsOverEveryReadyEndpointAndNoOther() throws {
        let yaml = """
            apiVersion: getambassador.io/v2
            kind: KubernetesEndpointResolver
            metadata: {name: endpoint}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: echo}
            spec: {prefix: /echo/, service: "echo:80", resolver: endpoint}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: sliced}
            spec: {prefix: /sliced/, service: sliced, resolver: endpoint}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: echo}
            spec: {ports: [{name: http, port: 80, targetPort: 8080}, {name: admin, port: 9000, targetPort: 9000}]}
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: echo}
            subsets:
            - addresses: [{ip: 127.0.0.1}]
              notReadyAddresses: [{ip: 127.0.0.2}]
              ports: [{name: http, port: @pod1.port@}, {name: admin, port: @outsider.port@}]
            - addresses: [{ip: 127.0.0.1}]
              ports: [{name: admin, port: @outsider.port@}, {name: http, port: @pod2.port@}]
            - addresses: [{ip: 127.0.0.1}]
              ports: [{name: http, port: @pod3.port@}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: sliced}
            spec: {ports: [{port: 80, targetPort: 8080}]}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: sliced-a, labels: {kubernetes.io/service-name: sliced}}
            addressType: IPv4
            ports: [{port: @pod1.port@}]
            endpoints:
            - addresses: [127.0.0.1]
              conditions: {ready: true}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: sliced-b, labels: {kubernetes.io/service-name: sliced}}
            addressType: IPv4
            ports: [{port: @pod2.port@}]
            endpoints:
            - addresses: [127.0.0.1]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: sliced-c, labels: {kubernetes.io/service-name: sliced}}
            addressType: IPv4
            ports: [{port: @outsider.port@}]
            endpoints:
            - addresses: [127.0.0.1]
              conditions: {ready: false, terminating: true}
            """
        let harness = try TrafficHarness(backends: ["pod1", "pod2", "pod3", "outsider"], yaml: yaml)
        defer { harness.stop() }
        let n = 900
        let echo = try harness.count(n, path: "/echo/")
        XCTAssertEqual(Set(echo.keys), ["pod1", "pod2", "pod3"], "\(echo)")
        for pod in ["pod1", "pod2", "pod3"] { assertShare(echo, pod, 1.0 / 3, of: n) }
        let sliced = try harness.count(n, path: "/sliced/")
        XCTAssertEqual(Set(sliced.keys), ["pod1", "pod2"], "\(sliced)")
        for pod in ["pod1", "pod2"] { assertShare(sliced, pod, 0.5, of: n) }
    }
}

/// Argo Rollouts through a real Envoy: the seed's steps give their canary share, and a header step sends its
/// requests to the canary while the rest follow the weight.
final class RolloutTrafficTests: XCTestCase {
    static let seedRollout = """
        apiVersion: getambassador.io/v2
        kind:  Mapping
        metadata:
          name: stable-mapping
        spec:
          prefix: /someapp
          rewrite: /
          service: @stable@
        ---
        apiVersion: argoproj.io/v1alpha1
        kind: Rollout
        metadata:
          name: someapp
        spec:
          strategy:
            canary:
              stableService: "127.0.0.1:@stable.port@"
              canaryService: "127.0.0.1:@canary.port@"
              trafficRouting:
                ambassador:
                  mappings:
                    - stable-mapping
              steps:
              - setWeight: 30
              - pause: {duration: 60s}
              - setWeight: 60
              - pause: {duration: 60s}
              - setHeaderRoute:
                  name: qa
                  match:
                  - headerName: x-qa
                    headerValue: {exact: "yes"}
              - setWeight: 0
        """

    func testSeedStepsSplitTrafficAsTheirWeights() throws {
        // Step → expected canary share; step 6 is the end of the rollout (promoted: all traffic to the canary).
        for (step, share) in [(0, 0.30), (1, 0.30), (2, 0.60), (3, 0.60), (6, 1.0)] {
            let harness = try TrafficHarness(
                backends: ["stable", "canary"], yaml: Self.seedRollout,
                extraArguments: ["--rollout", "someapp=step:\(step)"])
            defer { harness.stop() }
            let n = 1500
            let counts = try harness.count(n, path: "/someapp/x")
            assertShare(counts, "canary", share, of: n)
            assertShare(counts, "stable", 1 - share, of: n)
        }
    }

    func testHeaderStepSendsItsRequestsToTheCanary() throws {
        let harness = try TrafficHarness(
            backends: ["stable", "canary"], yaml: Self.seedRollout, extraArguments: ["--rollout", "someapp=step:5"])
        defer { harness.stop() }
        // Step 5 sets weight 0 with the header route from step 4 still in force.
        XCTAssertEqual(try harness.count(200, path: "/someapp/x", headers: [("x-qa", "yes")]), ["canary": 200])
        XCTAssertEqual(try harness.count(200, path: "/someapp/x", headers: [("x-qa", "no")]), ["stable": 200])
        XCTAssertEqual(try harness.count(200, path: "/someapp/x"), ["stable": 200])
    }
}
