import XCTest

@testable import Attache

/// The helpers of the hot paths: byte-level text, sorts by integer heads, numbering, and work split over processors.
final class TextAndParallelTests: XCTestCase {
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

    /// The integer heads that sorts compare first must never disagree with the full comparison: texts that share
    /// 16 bytes or more, NUL bytes against padding, non-ASCII, and route keys that tie on every number.
    func testSortsByTextHeadsAgreeWithFullComparison() {
        var generator = seededRandom()
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

    /// The table that numbers group keys and upstreams must give what a dictionary filled in one loop gives,
    /// also when every key lands in the same slot (the probing path) and when keys repeat far apart.
    func testNumberingByFirstOccurrenceMatchesADictionary() {
        struct Colliding: Hashable, Sendable {
            var text: String
            func hash(into hasher: inout Hasher) { hasher.combine(0) }
        }
        var generator = seededRandom()
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
}
