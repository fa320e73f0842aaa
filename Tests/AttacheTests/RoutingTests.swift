import XCTest

@testable import Attache

/// The routing rules of SEMANTICS.md §2–§4, piece by piece.
final class RoutingTests: XCTestCase {
    func cumulative(_ weights: [Int?]) -> [Int] { normalizedWeights(weights).cumulative }

    func testWeightNormalizationWorkedExamples() {
        XCTAssertEqual(cumulative([20, 30]), [20, 50], "all weighted below 100: the rest falls through")
        XCTAssertEqual(cumulative([20, 30, nil]), [20, 50, 100])
        XCTAssertEqual(cumulative([0, nil]), [0, 100])
        XCTAssertEqual(cumulative([nil, nil, nil]), [33, 66, 100])
        XCTAssertEqual(cumulative([10, nil, nil, nil, nil, nil, nil]), [10, 25, 40, 55, 70, 85, 100])
        XCTAssertEqual(cumulative([75]), [100], "a group of one takes everything")
        XCTAssertEqual(cumulative([nil, 30]), [30, 100], "weighted Mappings come first")
        XCTAssertEqual(normalizedWeights([nil, 30]).order, [1, 0])
    }

    func testRemainderRoundsHalfToEven() {
        // 100 - 50 = 50 over 4 → 12.5 → 12 (half to even), last forced to 100.
        XCTAssertEqual(cumulative([50, nil, nil, nil, nil]), [50, 62, 74, 86, 100])
        // 100 - 70 = 30 over 4 → 7.5 → 8.
        XCTAssertEqual(cumulative([70, nil, nil, nil, nil]), [70, 78, 86, 94, 100])
    }

    func testServiceQualification() {
        func q(_ host: String, _ ns: String, ambassador: String = "default", off: Bool = false) -> String {
            qualifiedServiceHost(
                host, mappingNamespace: ns, ambassadorNamespace: ambassador, useAmbassadorNamespace: off)
        }
        XCTAssertEqual(q("svc1", "prod"), "svc1.prod")
        XCTAssertEqual(q("svc1", "default"), "svc1")
        XCTAssertEqual(q("svc1.other", "prod"), "svc1.other")
        XCTAssertEqual(q("localhost", "prod"), "localhost")
        XCTAssertEqual(q("svc1", "prod", ambassador: "prod"), "svc1")
        XCTAssertEqual(q("svc1", "prod", off: true), "svc1")
    }

    func testServiceParsing() throws {
        func parse(_ text: String) -> ServiceReference? {
            if case .success(let parsed) = parseServiceReference(text) { return parsed.reference }
            return nil
        }
        XCTAssertEqual(
            parse("HTTPS://Svc.NS:8443/path"),
            ServiceReference(scheme: "https", host: "svc.ns", port: 8443, portName: nil))
        XCTAssertEqual(parse("[::1]:9000"), ServiceReference(scheme: nil, host: "::1", port: 9000, portName: nil))
        XCTAssertEqual(parse("websvc:http"), ServiceReference(scheme: nil, host: "websvc", port: nil, portName: "http"))
        XCTAssertNil(parse("svc:0"))
        XCTAssertNil(parse("ftp://svc"))
        guard case .failure(let problem) = parseServiceReference("service-gray  weight: 20") else { return XCTFail() }
        XCTAssertEqual(problem.code, .fieldsShareLine)
        guard case .failure(let template) = parseServiceReference("{{ .Values.name }}") else { return XCTFail() }
        XCTAssertEqual(template.code, .unrenderedTemplate)
    }

    func testRouteOrderKeyComparesLikePythonLists() {
        func key(_ precedence: Int, _ prefix: String, _ keys: [String] = [], headerLength: Int = 11) -> RouteOrderKey {
            var k = sampleMapping(prefix: prefix, precedence: precedence).routeOrder
            k.keys = keys
            k.headerLength = headerLength
            return k
        }
        XCTAssertLessThan(key(0, "/long/prefix/"), key(1, "/"), "precedence first")
        XCTAssertLessThan(key(0, "/a/"), key(0, "/ab/"), "then prefix length")
        XCTAssertLessThan(key(0, "/a/", headerLength: 11), key(0, "/a/", headerLength: 18), "then header length")
        XCTAssertLessThan(key(0, "/a/"), key(0, "/b/"), "then the prefix text")
        XCTAssertLessThan(key(0, "/a/", ["x"]), key(0, "/a/", ["x", "y"]), "a shorter equal list is smaller")
    }

    /// The canary Mappings a Rollout adds go back into Emissary's processing order (by key: `shop-canary.default.1`
    /// sorts before `shop.default.1`), not after the input's Mappings.
    func testRolloutCanariesJoinProcessingOrder() {
        let yaml = """
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: shop}
            spec: {prefix: /shop/, service: shop-stable:8080}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: cart}
            spec: {prefix: /cart/, service: cart:8080}
            ---
            apiVersion: argoproj.io/v1alpha1
            kind: Rollout
            metadata: {name: shop}
            spec:
              strategy:
                canary:
                  stableService: shop-stable
                  canaryService: shop-canary
                  trafficRouting: {ambassador: {mappings: [shop]}}
                  steps:
                  - setWeight: 20
            status: {currentStepIndex: 1, stableRS: a1, currentPodHash: b2}
            """
        let translation = translate([SourceFile(name: "rollout.yaml", text: yaml)], options: TranslationOptions())
        XCTAssertEqual(translation.resources.mappings.map(\.reference.name), ["cart", "shop-canary", "shop"])
    }

    func testTiesKeepReverseProcessingOrder() {
        let mapping = sampleMapping(prefix: "/same/")
        let groups = (0..<3).map { i -> CanaryGroup in
            var route = sampleRoute()
            route.cluster = "c\(i)"
            return CanaryGroup(routes: [route], order: mapping.routeOrder)
        }
        XCTAssertEqual(routeTableOrder(groups.map(\.order)).map { groups[$0].routes[0].cluster }, ["c2", "c1", "c0"])
    }

    func testPresenceHeaderLengthCountsAsRegexDotStar() {
        let gray = HeaderMatcher(name: "gray", value: .regex(".*"))
        XCTAssertEqual(gray.sortLength, 7)
        XCTAssertEqual(HeaderMatcher(name: ":authority", value: .hostGlob("*")).sortLength, 11)
        XCTAssertEqual(HeaderMatcher(name: ":method", value: .exact("POST")).sortLength, 11)
    }

    func testClusterNamesAreStableShortAndUnique() {
        let plain = UpstreamCluster.Identity(
            discovery: .dns(host: "svc1.prod", port: 80), tls: false, connectTimeoutMs: 3000, ipv6: false)
        let slow = UpstreamCluster.Identity(
            discovery: .dns(host: "svc1.prod", port: 80), tls: false, connectTimeoutMs: 9000, ipv6: false)
        let long = UpstreamCluster.Identity(
            discovery: .dns(host: String(repeating: "very-long-name.", count: 8) + "svc", port: 8080), tls: true,
            connectTimeoutMs: 3000, ipv6: false)
        let names = clusterNames(for: [plain, slow, long])
        XCTAssertEqual(names[0], "cluster_svc1_prod")
        XCTAssertNotEqual(names[1], names[0], "different settings, different cluster")
        XCTAssertTrue(names[1].hasPrefix("cluster_svc1_prod_"))
        XCTAssertLessThanOrEqual(names[2].count, 60)
        XCTAssertEqual(clusterNames(for: [long, slow, plain]), names.reversed(), "names do not depend on order")
    }

    /// A cluster's name depends on its identity alone: adding or removing other clusters never renames it, also
    /// among hosts whose readable forms would collide (`a_b`, `a.b`, `a-b`; `a.8080` against `a` on port 8080;
    /// `a.tls` against `a` over TLS). Seeded random sets of such hosts, named together and apart.
    func testClusterNamesDependOnlyOnTheirOwnIdentity() {
        func identity(_ host: String, _ port: Int = 80, tls: Bool = false, connect: Int = 3000)
            -> UpstreamCluster.Identity
        {
            UpstreamCluster.Identity(
                discovery: .dns(host: host, port: port), tls: tls, connectTimeoutMs: connect, ipv6: false)
        }
        let tricky = [
            identity("a.b"), identity("a_b"), identity("a-b"), identity("a", 8080), identity("a.8080"),
            identity("a", 443, tls: true), identity("a.tls"), identity("a.tls", 443, tls: true),
            identity("a", 8443, tls: true),
            identity("a.8443", 443, tls: true), identity("a.b", connect: 100), identity("a.0badcafe"), identity("A.B"),
            identity("10.0.0.7", 9000), identity("fd00::7", 9000),
            UpstreamCluster.Identity(
                discovery: .endpoints(namespace: "ns", service: "a", port: 80), tls: false, connectTimeoutMs: 3000,
                ipv6: false),
        ]
        let alone = tricky.map { clusterNames(for: [$0])[0] }
        XCTAssertEqual(Set(alone).count, tricky.count, "distinct identities, distinct names: \(alone)")
        XCTAssertEqual(clusterNames(for: tricky), alone, "named together as apart")
        XCTAssertEqual(alone[0], "cluster_a_b")
        XCTAssertEqual(alone[2], "cluster_a-b")
        XCTAssertEqual(alone[3], "cluster_a_8080")
        XCTAssertEqual(alone[5], "cluster_a_tls")
        XCTAssertTrue(alone[1].hasPrefix("cluster_a_b_") && alone[4].hasPrefix("cluster_a_8080_"), "\(alone)")
        var generator = seededRandom()
        for _ in 0..<200 {
            let subset = tricky.filter { _ in Bool.random(using: &generator) }
            XCTAssertEqual(clusterNames(for: subset), subset.map { clusterName($0) })
        }
    }

}
