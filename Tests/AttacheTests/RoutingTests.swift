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

    func testByteLevelTextHelpers() {
        for (host, expected) in [
            ("10.0.0.1", true), ("255.255.255.255", true), ("::1", true), ("fe80::1%eth0", true),
            ("a:b", true), ("256.0.0.1", false), ("1.2.3", false), ("1.2.3.4.5", false), ("1..2.3", false),
            ("1.2.3.", false), ("0001.2.3.4", false), ("svc.ns", false), ("", false), ("１.2.3.4", false),
        ] {
            XCTAssertEqual(isIPAddress(host), expected, host)
        }
        XCTAssertTrue("a{{b".containsBytes("{{"))
        XCTAssertFalse("a{b{".containsBytes("{{"))
        XCTAssertTrue("x".containsBytes(""))
        XCTAssertTrue("é.".containsBytes("."))
        // Code point order is UTF-8 byte order, whatever Unicode normalisation would say; a prefix sorts first.
        XCTAssertTrue(codePointLess("Z", "a"))
        XCTAssertTrue(codePointLess("ab", "abc"))
        XCTAssertFalse(codePointLess("abc", "abc"))
        XCTAssertTrue(codePointLess("e\u{301}", "\u{e9}"), "decomposed é (0x65…) before precomposed é (0xC3…)")
        XCTAssertFalse(codePointLess("\u{e9}", "e\u{301}"))
        XCTAssertEqual(endpointFileName(forCluster: "k8s/prod/web/8080"), "endpoints/k8s_prod_web_8080.json")
        XCTAssertEqual(
            codePointCompare("a very long string that is not small", "a very long string that is not small"), 0)
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

    /// The integer heads that sorts compare first must never disagree with the full comparison: texts that share
    /// 16 bytes or more, NUL bytes against padding, non-ASCII, and route keys that tie on every number.
    func testSortsByTextHeadsAgreeWithFullComparison() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["", "a", "b", "\u{0}", "é", "/app", "cluster_svc_long_common_head_", "k8s/ns1/", "Z"]
        let texts = (0..<2000).map { _ in
            (0..<Int.random(in: 0...5, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }
                .joined()
        }
        let expected = texts.indices.sorted { a, b in
            let order = codePointCompare(texts[a], texts[b])
            return order != 0 ? order < 0 : a < b
        }
        XCTAssertEqual(codePointOrder(texts), expected)
        let ranks = texts.indices.map { _ in Int.random(in: 0..<50, using: &generator) }
        let expectedByRank = texts.indices.sorted { a, b in
            let order = codePointCompare(texts[a], texts[b])
            if order != 0 { return order < 0 }
            return ranks[a] != ranks[b] ? ranks[a] < ranks[b] : a < b
        }
        XCTAssertEqual(codePointOrder(texts, ranks: ranks), expectedByRank, "equal texts in rank order")

        let keys = texts.map { text -> RouteOrderKey in
            var key = sampleMapping(prefix: "/" + text).routeOrder
            key.prefixLength = 5  // ties on every number: the prefix decides
            key.keys = [String(text.prefix(2))]
            return key
        }
        let expectedRoutes = Array(
            keys.indices.sorted { a, b in
                let order = keys[a].compare(to: keys[b])
                return order != 0 ? order < 0 : a < b
            }.reversed())
        XCTAssertEqual(routeTableOrder(keys), expectedRoutes)
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
        // Two hosts that sanitise to the same text still get different names.
        let dotted = UpstreamCluster.Identity(
            discovery: .dns(host: "a.b", port: 80), tls: false, connectTimeoutMs: 3000, ipv6: false)
        let underscored = UpstreamCluster.Identity(
            discovery: .dns(host: "a_b", port: 80), tls: false, connectTimeoutMs: 3000, ipv6: false)
        let clash = clusterNames(for: [dotted, underscored])
        XCTAssertNotEqual(clash[0], clash[1])
    }

    /// The table that numbers group keys and upstreams must give what a dictionary filled in one loop gives,
    /// also when every key lands in the same slot (the probing path) and when keys repeat far apart.
    func testNumberingByFirstOccurrenceMatchesADictionary() {
        struct Colliding: Hashable, Sendable {
            var text: String
            func hash(into hasher: inout Hasher) { hasher.combine(0) }
        }
        var generator = SystemRandomNumberGenerator()
        for count in [0, 1, 2, 17, 300, 5000] {
            let texts = (0..<count).map { _ in "key-\(Int.random(in: 0..<max(1, count / 3), using: &generator))" }
            var expectedNumber: [Int] = []
            var expectedFirst: [Int] = []
            var seen: [String: Int] = [:]
            for (position, text) in texts.enumerated() {
                if let known = seen[text] {
                    expectedNumber.append(known)
                } else {
                    seen[text] = expectedFirst.count
                    expectedNumber.append(expectedFirst.count)
                    expectedFirst.append(position)
                }
            }
            let plain = numberByFirstOccurrence(texts.map(Prehashed.init))
            XCTAssertEqual(plain.number, expectedNumber, "\(count) keys")
            XCTAssertEqual(plain.first, expectedFirst, "\(count) keys")
            if count <= 300 {
                let colliding = numberByFirstOccurrence(texts.map { Prehashed(Colliding(text: $0)) })
                XCTAssertEqual(colliding.number, expectedNumber, "\(count) colliding keys")
                XCTAssertEqual(colliding.first, expectedFirst, "\(count) colliding keys")
            }
            let grouped = GroupedPositions(numbers: plain.number, groupCount: plain.first.count)
            XCTAssertEqual(grouped.count, plain.first.count)
            for group in plain.first.indices {
                XCTAssertEqual(Array(grouped[group]), texts.indices.filter { plain.number[$0] == group })
            }
            XCTAssertEqual(grouped.members.count, count)
        }
    }

    /// Results moved into place by the workers come back in index order, each exactly once, around the run length.
    func testParallelMapByCountKeepsOrder() {
        for count in [0, 1, 1023, 1024, 1025, 2049, 10_000] {
            let mapped = parallelMap(count: count) { "item \($0) " + String(repeating: "x", count: $0 % 40) }
            XCTAssertEqual(
                mapped, (0..<count).map { "item \($0) " + String(repeating: "x", count: $0 % 40) }, "\(count) items")
        }
        XCTAssertEqual(parallelMap(count: 5, minimumRun: 1) { $0 * $0 }, [0, 1, 4, 9, 16])
    }

    /// Both halves of each result land at the result's index, around the run length.
    func testParallelUnzipKeepsBothHalvesInOrder() {
        for count in [0, 1, 1023, 1024, 1025, 2049, 10_000] {
            let (texts, lists) = parallelUnzip(count: count) {
                ("item \($0) " + String(repeating: "x", count: $0 % 40), Array(0..<($0 % 5)))
            }
            XCTAssertEqual(
                texts, (0..<count).map { "item \($0) " + String(repeating: "x", count: $0 % 40) }, "\(count) items")
            XCTAssertEqual(lists, (0..<count).map { Array(0..<($0 % 5)) }, "\(count) items")
        }
        let (squares, cubes) = parallelUnzip(count: 5, minimumRun: 1) { ($0 * $0, $0 * $0 * $0) }
        XCTAssertEqual(squares, [0, 1, 4, 9, 16])
        XCTAssertEqual(cubes, [0, 1, 8, 27, 64])
    }

    func testRE2Check() {
        // Accepted by RE2 (several of these ICU would refuse, or the other way round).
        for regex in [
            "^/api/v[0-9]+/.*$", "(?P<id>[0-9]+)", "(?i)abc", "(?i:a|b)c", "a{2,5}?", "[]a]", "[^-a]", "[[:alpha:]_]",
            "\\pL\\p{Greek}", "\\x{e9}\\x41", "\\Qa.b\\E", "a{", "x{a}", ".*", "\\.", "^$*", "(a)(b)|c", "[a\\-z]",
        ] {
            XCTAssertNil(RE2Check.problem(in: regex), regex)
        }
        // Refused by RE2, or (the empty regex) by Envoy's RegexMatcher (min_len: 1).
        for regex in [
            "", "(?<=x)y", "(?=x)", "(?!x)", "(?>x)", "(a)\\1", "a(b", "a)b", "*a", "a**", "a*+", "a++", "[b-a]", "[a",
            "\\Z", "\\e", "a{1001}", "a{3,2}", "(?x)a", "(?P<>a)", "\\", "(|*)", "[[:alpha:]",
        ] {
            XCTAssertNotNil(RE2Check.problem(in: regex), regex)
        }
        // Long but well-formed: fine syntax, refused for its program size unless the limit allows it.
        XCTAssertNil(RE2Check.problem(in: String(repeating: "x", count: 5000), maxProgramSize: 10_000))
        XCTAssertNotNil(RE2Check.problem(in: String(repeating: "x", count: 5000)))
        XCTAssertEqual(RE2Check.estimatedProgramSize(Array(String(repeating: "x", count: 5000).unicodeScalars)), 5004)
    }

    func testJSONWriterEscapesAndKeepsOrder() {
        let value = JSONValue.object([("z", .int(1)), ("a", .string("q\"\\\n\u{1}é"))])
        XCTAssertEqual(JSONWriter.string(value), "{\n  \"z\": 1,\n  \"a\": \"q\\\"\\\\\\n\\u0001é\"\n}\n")
    }

    /// Numbers at the ends of Int's range, indentation deeper than the writer's precomputed line breaks, and a
    /// buffer that must grow from one byte: the writer's hand-managed paths.
    func testJSONWriterNumbersDeepNestingAndGrowth() throws {
        let numbers = JSONValue.array([.int(0), .int(-1), .int(42), .int(Int.max), .int(Int.min)])
        XCTAssertEqual(
            JSONWriter.string(numbers),
            "[\n  0,\n  -1,\n  42,\n  9223372036854775807,\n  -9223372036854775808\n]\n")

        var nested = JSONValue.string("deep")
        for _ in 0..<200 { nested = .array([nested]) }
        let rendered = JSONWriter.render(nested, capacity: 1)
        let lines = String(decoding: rendered, as: UTF8.self).split(separator: "\n")
        // The innermost value sits 200 levels down: 400 spaces, more than one precomputed line break holds.
        XCTAssertEqual(lines[200], Substring(String(repeating: " ", count: 400) + "\"deep\""))
        XCTAssertEqual(lines.count, 401)
        let parsed = try JSONSerialization.jsonObject(with: Data(rendered))
        var inner: Any = parsed
        for _ in 0..<200 { inner = try XCTUnwrap((inner as? [Any])?.first) }
        XCTAssertEqual(inner as? String, "deep")
    }

    /// A long array rendered in parts on several threads is byte for byte the serial rendering, in memory and
    /// streamed to a sink, at any length around the parallel threshold.
    func testLongArraysRenderTheSameSideBySide() throws {
        struct Item: JSONRepresentable, Sendable {
            var n: Int
            func write(to json: inout JSONWriter) {
                json.object { o in
                    o.field("n", n)
                    o.field("tags", strings: ["t\(n)", "x"], keepEmpty: true)
                }
            }
        }
        struct Holder: JSONObjectRepresentable {
            var items: [Item]
            var parallel: Bool
            func writeFields(to o: inout JSONWriter) {
                o.field("before", "x")
                if parallel {
                    o.field("items", longArray: items)
                } else {
                    o.field("items", array: items, keepEmpty: true)
                }
                o.field("after", 1)
            }
        }
        for count in [0, 1, 2047, 2048, 2049, 10_001] {
            let items = (0..<count).map { Item(n: $0) }
            let serial = JSONWriter.render(Holder(items: items, parallel: false))
            XCTAssertEqual(JSONWriter.render(Holder(items: items, parallel: true)), serial, "\(count) items")
            var streamed: [UInt8] = []
            var writer = JSONWriter(sink: { streamed += $0 })
            Holder(items: items, parallel: true).write(to: &writer)
            try writer.finish()
            XCTAssertEqual(streamed, serial, "\(count) items, streamed")
        }
    }

    /// A place left out by a streaming writer is counted in the whole output, flushed chunks included, so a value
    /// copied in there later lands where the writer would have written it.
    func testReservedPlaceCountsFlushedBytes() throws {
        var streamed: [UInt8] = []
        var writer = JSONWriter(sink: { streamed += $0 })
        var place: ValuePlace?
        writer.object { o in
            o.field("filler", strings: (0..<40_000).map { "string number \($0)" })
            o.key("later")
            place = o.reserveValue()
            o.field("after", 1)
        }
        try writer.finish()
        let placed = try XCTUnwrap(place)
        XCTAssertGreaterThan(placed.offset, 1 << 18, "the filler must have been flushed before the place")
        XCTAssertEqual(Array(streamed[(placed.offset - 9)..<placed.offset]), Array("\"later\": ".utf8))
        XCTAssertEqual(Array(streamed[placed.offset..<(placed.offset + 2)]), Array(",\n".utf8))
        XCTAssertEqual(placed.indent, 2)
    }

    func testDurations() {
        XCTAssertEqual(Envoy.duration(milliseconds: 3000), "3s")
        XCTAssertEqual(Envoy.duration(milliseconds: 250), "0.250s")
        XCTAssertEqual(Envoy.duration(milliseconds: 1005), "1.005s")
    }
}

func sampleMapping(prefix: String, precedence: Int = 0) -> Mapping {
    let location = SourceLocation(file: "t.yaml", line: 1, column: 1)
    return Mapping(
        reference: ObjectReference(kind: "Mapping", namespace: "default", name: "m"), location: location,
        processingKey: "m.default.1", dialect: .v2,
        match: Mapping.Match(
            prefix: prefix, pathMatch: .prefix, caseSensitive: nil,
            headers: [HeaderMatcher(name: ":authority", value: .hostGlob("*"))],
            queryParameters: [], precedence: precedence),
        upstream: Mapping.Upstream(
            text: "svc", service: ServiceReference(scheme: nil, host: "svc", port: nil, portName: nil),
            location: location, resolver: nil,
            resolverLocation: nil),
        weight: nil, weightLocation: nil,
        coreFields: Mapping.GroupCoreFields(prefixRegex: nil, prefixExact: nil, connectTimeoutMs: nil),
        route: RouteSettings(), cluster: ClusterSettings())
}

func sampleRoute() -> Route {
    Route(
        mapping: ObjectReference(kind: "Mapping", namespace: "default", name: "m"),
        location: SourceLocation(file: "t.yaml", line: 1, column: 1), pathMatch: .prefix, prefix: "/",
        caseSensitive: true,
        headers: [], queryParameters: [], cumulativeWeight: 100, cluster: "c",
        settings: RouteSettings(
            prefixRewrite: "/", timeoutMs: 3000, removeRequestHeaders: [], removeResponseHeaders: []))
}
