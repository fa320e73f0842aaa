import XCTest

@testable import Attache

/// The Envoy builders, case by case: routing-model values in, Envoy messages out. Each table names its cases so that
/// a failure says which rule broke.
final class EnvoyBuilderTests: XCTestCase {
    func testHeaderMatchers() {
        let cases: [(name: String, matcher: HeaderMatcher, want: Envoy.HeaderMatcher?)] = [
            (
                "exact header keeps case", HeaderMatcher(name: "x-canary", value: .exact("Yes")),
                Envoy.HeaderMatcher(name: "x-canary", stringMatch: .exact("Yes", ignoreCase: false))
            ),
            (
                "exact :authority ignores case", HeaderMatcher(name: ":authority", value: .exact("Shop.example")),
                Envoy.HeaderMatcher(name: ":authority", stringMatch: .exact("Shop.example", ignoreCase: true))
            ),
            (
                "regex", HeaderMatcher(name: "x-user", value: .regex("a.*")),
                Envoy.HeaderMatcher(name: "x-user", stringMatch: .regex("a.*"))
            ),
            ("glob * needs no matcher", HeaderMatcher(name: ":authority", value: .hostGlob("*")), nil),
            (
                "leading * is a suffix", HeaderMatcher(name: ":authority", value: .hostGlob("*.example.com")),
                Envoy.HeaderMatcher(name: ":authority", stringMatch: .suffix(".example.com", ignoreCase: true))
            ),
            (
                "trailing * is a prefix", HeaderMatcher(name: ":authority", value: .hostGlob("shop.*")),
                Envoy.HeaderMatcher(name: ":authority", stringMatch: .prefix("shop.", ignoreCase: true))
            ),
            (
                "no * is the exact name", HeaderMatcher(name: ":authority", value: .hostGlob("Shop.Example.com")),
                Envoy.HeaderMatcher(name: ":authority", stringMatch: .exact("Shop.Example.com", ignoreCase: true))
            ),
        ]
        for test in cases {
            XCTAssertEqual(envoyHeaderMatcher(test.matcher), test.want, test.name)
        }
    }

    func testHostGlobsMatchAsTheirEnvoyMatchers() {
        let cases: [(glob: String, host: String, matches: Bool)] = [
            ("*", "anything.example", true),
            ("*.example.com", "api.example.com", true),
            ("*.example.com", "API.Example.COM", true),
            ("*.example.com", "example.com", false),
            ("shop.*", "shop.example", true),
            ("shop.*", "myshop.example", false),
            ("shop.example", "SHOP.example", true),
            ("shop.example", "shop.example.org", false),
        ]
        for test in cases {
            XCTAssertEqual(HostGlob(test.glob).matches(test.host), test.matches, "\(test.glob) against \(test.host)")
            XCTAssertEqual(HostGlob(test.glob).text, test.glob, "\(test.glob) reads back as written")
            XCTAssertTrue(HostGlob(test.glob).matches(HostGlob(test.glob).exampleHost), "\(test.glob)'s example host")
        }
    }

    func testRoutes() {
        var weighted = sampleRoute()
        weighted.cumulativeWeight = 30
        weighted.cluster = "cluster_canary"
        var exact = sampleRoute()
        exact.pathMatch = .exact
        exact.prefix = "/health"
        exact.caseSensitive = false
        var regex = sampleRoute()
        regex.pathMatch = .regex
        regex.prefix = "/v[0-9]+/.*"
        var headers = sampleRoute()
        headers.settings.addRequestHeaders = [HeaderAddition(name: "x-a", value: "1", append: false)]
        headers.settings.removeResponseHeaders = ["server"]
        headers.settings.timeoutMs = nil
        let cases: [(name: String, route: Route, check: (Envoy.Route) -> Bool)] = [
            ("plain prefix", sampleRoute(), { $0.match.path == .prefix("/") && $0.match.runtimeFraction == nil }),
            (
                "a canary share is a runtime fraction of the cumulative weight", weighted,
                {
                    $0.match.runtimeFraction?.percent == 30
                        && $0.match.runtimeFraction?.runtimeKey == "attache.weight.default.m"
                }
            ),
            ("exact path", exact, { $0.match.path == .path("/health") && !$0.match.caseSensitive }),
            ("regex path", regex, { $0.match.path == .safeRegex("/v[0-9]+/.*") }),
            (
                "headers and the default timeout", headers,
                {
                    $0.requestHeadersToAdd == [Envoy.HeaderValueOption(key: "x-a", value: "1", append: false)]
                        && $0.responseHeadersToRemove == ["server"]
                        && $0.route?.timeoutMs == AmbassadorDefaults.requestTimeoutMs
                }
            ),
        ]
        for test in cases {
            let built = envoyRoute(test.route)
            XCTAssertEqual(built.name, "default/m", test.name)
            XCTAssertTrue(test.check(built), "\(test.name): \(JSONWriter.string(built))")
        }
    }

    func testClusters() {
        func cluster(_ discovery: ClusterDiscovery, tls: Bool = false, ipv6: Bool = false) -> UpstreamCluster {
            var settings = UpstreamSettings()
            settings.ipv6 = ipv6
            return UpstreamCluster(
                name: "c", discovery: discovery, tls: tls, settings: settings,
                members: [EndpointAddress(address: "10.1.0.5", port: 8080)], mappings: [])
        }
        let pods = ClusterDiscovery.endpoints(namespace: "shop", service: "web", port: 80)
        let cases:
            [(
                name: String, cluster: UpstreamCluster, delivery: EndpointDelivery, type: Envoy.Cluster.DiscoveryType,
                family: String?, members: [String], eds: String?
            )] = [
                (
                    "DNS name", cluster(.dns(host: "web.shop", port: 80)), .inline, .STRICT_DNS, "V4_ONLY",
                    ["web.shop:80"], nil
                ),
                (
                    "DNS name, IPv6 on", cluster(.dns(host: "web.shop", port: 80), ipv6: true), .inline, .STRICT_DNS,
                    "AUTO", ["web.shop:80"], nil
                ),
                (
                    "IPv4 address", cluster(.dns(host: "10.0.0.7", port: 9000)), .inline, .STATIC, nil,
                    ["10.0.0.7:9000"], nil
                ),
                (
                    "IPv6 address", cluster(.dns(host: "fd00::7", port: 9000)), .inline, .STATIC, nil, ["fd00::7:9000"],
                    nil
                ),
                ("pods, inline", cluster(pods), .inline, .STATIC, nil, ["10.1.0.5:8080"], nil),
                ("pods, from files", cluster(pods), .files(directory: "/x"), .EDS, nil, [], "/x/endpoints/c.json"),
            ]
        for test in cases {
            let built = envoyCluster(test.cluster, delivery: test.delivery)
            XCTAssertEqual(built.type, test.type, test.name)
            XCTAssertEqual(built.dnsLookupFamily, test.family, test.name)
            XCTAssertEqual(
                built.loadAssignment?.endpoints.map { "\($0.address):\($0.port)" } ?? [], test.members, test.name)
            XCTAssertEqual(built.edsPath, test.eds, test.name)
            XCTAssertEqual(built.upstreamTLS, false, test.name)
        }
        XCTAssertTrue(envoyCluster(cluster(.dns(host: "web", port: 443), tls: true), delivery: .inline).upstreamTLS)
    }

    func testDurations() {
        let cases: [(milliseconds: Int, want: String)] = [
            (3000, "3s"), (250, "0.250s"), (1005, "1.005s"), (0, "0s"), (1, "0.001s"), (-5, "0s"),
        ]
        for test in cases {
            XCTAssertEqual(Envoy.duration(milliseconds: test.milliseconds), test.want, "\(test.milliseconds) ms")
        }
    }
}
