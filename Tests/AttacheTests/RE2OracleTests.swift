import Foundation
import XCTest

@testable import Attache

/// Attaché's RE2 syntax check must agree with the RE2 inside Envoy: each pattern goes into a route's
/// `safe_regex`, and `envoy --mode validate` says whether RE2 accepts it.
final class RE2OracleTests: XCTestCase {
    static let patterns = [
        "^/api/v[0-9]+/.*$", "(?P<id>[0-9]+)", "(?i)abc", "(?i:a|b)c", "a{2,5}?", "[]a]", "[^-a]", "[[:alpha:]_]",
        "\\pL\\p{Greek}", "\\x{263a}\\x41", "\\Qa.b\\E", "a{", "x{a}", ".*", "\\.", "^$*", "(a)(b)|c", "[a\\-z]",
        "(?<=x)y", "(?=x)", "(?!x)", "(?>x)", "(a)\\1", "a(b", "a)b", "*a", "a**", "a*+", "a++", "[b-a]", "[a",
        "\\Z", "\\e", "a{1001}", "a{3,2}", "(?x)a", "(?P<>a)", "(|*)", "[[:alpha:]", "\\d+\\s*\\w", "a{,3}", "(?U)a+",
        "(?<name>x)", "[\\d-z]", "\\x{ff}", "\\x{100}", "☺", "\\pL", "[é-ü]", "\\b\\B\\A\\z", "(?-i)a", "(?i-s:x)",
        "\\C", "[\\b]", "\\8", "a{2}{3}", "(?:)", "()",
    ]

    /// Patterns near the program-size limit (200): Attaché's estimate may refuse a regex Envoy would take (it
    /// errs on the safe side), never the other way round.
    static let sizedPatterns: [String] = [
        String(repeating: "x", count: 190), String(repeating: "x", count: 197), String(repeating: "x", count: 300),
        String(repeating: "(ab)", count: 45), String(repeating: "(ab)", count: 50), "(ab){45}", "(ab){50}",
        String(repeating: ".", count: 95), String(repeating: ".", count: 99), String(repeating: "\\w", count: 60),
        String(repeating: "\\w", count: 66), String(repeating: "é", count: 95), String(repeating: "\\pL", count: 11),
        String(repeating: "\\pL", count: 30), "[a-z]{190}", "[a-z]{250}", "a{100}b{100}", "(a|b|c){60}", "x{150,190}",
    ]

    func testAgreesWithEnvoy() throws {
        let envoy = try EnvoyLocator.require()
        let verdicts = try envoyVerdicts(Self.patterns + Self.sizedPatterns, envoy: envoy)
        for (pattern, envoyAccepts) in zip(Self.patterns, verdicts) {
            let weAccept = RE2Check.problem(in: pattern) == nil
            XCTAssertEqual(
                weAccept, envoyAccepts,
                "`\(pattern)`: Envoy \(envoyAccepts ? "accepts" : "rejects") it, Attaché \(weAccept ? "accepts" : "rejects") it (\(RE2Check.problem(in: pattern) ?? ""))"
            )
        }
        var bothAccept = 0, bothReject = 0
        for (pattern, envoyAccepts) in zip(Self.sizedPatterns, verdicts.suffix(Self.sizedPatterns.count)) {
            let weAccept = RE2Check.problem(in: pattern) == nil
            if weAccept {
                XCTAssertTrue(
                    envoyAccepts,
                    "Attaché accepts `\(pattern.prefix(40))…` (\(pattern.count) chars) but Envoy refuses it: the estimate is too low"
                )
            }
            if weAccept && envoyAccepts { bothAccept += 1 }
            if !weAccept && !envoyAccepts { bothReject += 1 }
        }
        XCTAssertGreaterThan(bothAccept, 3, "the estimate refuses too much")
        XCTAssertGreaterThan(bothReject, 3)
    }

    /// For each pattern, whether Envoy (with Attaché's runtime limit) accepts it.
    func envoyVerdicts(_ patterns: [String], envoy: String) throws -> [Bool] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "attache-re2-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let results = Results<Bool>(count: patterns.count)
        DispatchQueue.concurrentPerform(iterations: patterns.count) { index in
            let route = Envoy.Route(
                name: "r",
                match: Envoy.RouteMatch(
                    path: .safeRegex(patterns[index]), caseSensitive: true, runtimeFraction: nil, headers: [],
                    queryParameters: []),
                route: Envoy.RouteAction(
                    cluster: "c", prefixRewrite: nil, hostRewriteLiteral: nil, timeoutMs: 1000, idleTimeoutMs: nil),
                requestHeadersToAdd: [], requestHeadersToRemove: [], responseHeadersToAdd: [],
                responseHeadersToRemove: [])
            let bootstrap = Envoy.Bootstrap(
                nodeID: "t",
                listeners: [
                    Envoy.Listener(
                        name: "l", address: Envoy.SocketAddress(address: "127.0.0.1", port: 1),
                        routes: .inline(
                            Envoy.RouteConfiguration(
                                name: "rc",
                                virtualHosts: [Envoy.VirtualHost(name: "v", domains: ["*"], routes: [route])])))
                ],
                clusters: [
                    Envoy.Cluster(
                        name: "c", type: .STATIC, connectTimeoutMs: 1000, dnsLookupFamily: nil,
                        loadAssignment: Envoy.ClusterLoadAssignment(clusterName: "c", endpoints: []), edsPath: nil,
                        upstreamTLS: false)
                ],
                admin: Envoy.SocketAddress(address: "127.0.0.1", port: 0),
                runtime: Envoy.LayeredRuntime(regexMaxProgramSize: AmbassadorDefaults.regexMaxProgramSize))
            let path = directory.appendingPathComponent("\(index).json")
            try? Data(JSONWriter.render(bootstrap)).write(to: path)
            let status =
                (try? runProcess(envoy, ["--mode", "validate", "-c", path.path, "--log-level", "critical"]))?.status
                ?? -1
            results.set(index, status == 0)
        }
        return patterns.indices.map { results.get($0) }
    }
}
