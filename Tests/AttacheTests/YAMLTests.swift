import XCTest
import YAML

/// The YAML layer: positions, typing, merge keys, limits.
final class YAMLTests: XCTestCase {
    func parse(_ text: String) throws -> [YAMLDocument] {
        try parseYAML(Array(text.utf8)).documents
    }

    func testPositionsAreOneBasedLineAndColumn() throws {
        let doc = try parse("a: 1\nb:\n  c: [x, y]\n")[0].root
        XCTAssertEqual(doc["a"]?.mark, Mark(line: 1, column: 4))
        XCTAssertEqual(doc["b"]?["c"]?.mark, Mark(line: 3, column: 6))
        XCTAssertEqual(doc["b"]?["c"]?.sequence?[1].mark, Mark(line: 3, column: 10))
    }

    func testPlainScalarsAreTypedQuotedOnesAreStrings() throws {
        let doc = try parse("t: true\ny: yes\nq: \"true\"\nn: 20\ns: '20'\nf: 1.5\nz: ~\nh: 0x1f\nbig: 1e309\n")[0].root
        XCTAssertEqual(doc["t"]?.resolved, .bool(true))
        XCTAssertEqual(doc["y"]?.resolved, .bool(true))
        XCTAssertEqual(doc["q"]?.resolved, .string("true"))
        XCTAssertEqual(doc["n"]?.resolved, .int(20))
        XCTAssertEqual(doc["s"]?.resolved, .string("20"))
        XCTAssertEqual(doc["f"]?.resolved, .float(1.5))
        XCTAssertEqual(doc["z"]?.resolved, .null)
        XCTAssertEqual(doc["h"]?.resolved, .int(31))
        XCTAssertEqual(doc["big"]?.resolved, .float(.infinity))
    }

    func testExplicitTagsWin() throws {
        let doc = try parse("a: !!str true\nb: !!int \"7\"\n")[0].root
        XCTAssertEqual(doc["a"]?.resolved, .string("true"))
        XCTAssertEqual(doc["b"]?.resolved, .int(7))
    }

    func testMergeKeysAndAliases() throws {
        let doc = try parse("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n")[0].root
        XCTAssertEqual(doc["d"]?["x"]?.resolved, .int(1))
        XCTAssertEqual(doc["d"]?["y"]?.resolved, .int(3), "explicit keys win over merged ones")
    }

    func testDuplicateKeysWarnAndLastWins() throws {
        let stream = try parseYAML(Array("a: 1\na: 2\n".utf8))
        XCTAssertEqual(stream.documents[0].root["a"]?.resolved, .int(2))
        XCTAssertEqual(stream.warnings.count, 1)
        XCTAssertEqual(stream.warnings.first?.mark, Mark(line: 2, column: 1))
    }

    /// The other paths of duplicate detection and merging: a mapping over 16 keys (checked by hashing), keys of
    /// one length but different text (rejected after the length check), and merge sources in order.
    func testDuplicateKeysInLargeMappingsAndMergeOrder() throws {
        let large = (0..<20).map { "k\($0): \($0)" }.joined(separator: "\n") + "\nk7: again\n"
        let stream = try parseYAML(Array(large.utf8))
        XCTAssertEqual(stream.warnings.map(\.mark), [Mark(line: 21, column: 1)])
        XCTAssertEqual(stream.documents[0].root["k7"]?.scalarText, "again")
        XCTAssertEqual(try parseYAML(Array("ab: 1\nba: 2\nab2: 3\nb: 4\n".utf8)).warnings, [])
        let merged = try parse("a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n")[0].root
        XCTAssertEqual(merged["c"]?["x"]?.resolved, .int(1), "the earlier merge source wins")
        XCTAssertEqual(merged["c"]?["y"]?.resolved, .int(2))
        XCTAssertEqual(merged["c"]?["z"]?.resolved, .int(3))
        XCTAssertNil(merged["c"]?["<<"])
    }

    /// Keys are compared by code points, as Python (and so Emissary) compares them: "café" written precomposed
    /// and decomposed are two keys, which Swift's `==` alone would take for one.
    func testKeysAreComparedByCodePoints() throws {
        let stream = try parseYAML(Array("\"caf\\u00e9\": 1\n\"cafe\\u0301\": 2\n".utf8))
        let root = stream.documents[0].root
        XCTAssertEqual(root["caf\u{e9}"]?.resolved, .int(1))
        XCTAssertEqual(root["cafe\u{301}"]?.resolved, .int(2))
        XCTAssertEqual(stream.warnings, [], "two different keys, not a duplicate")
    }

    func testMultiDocumentStreamsAndJSON() throws {
        XCTAssertEqual(try parse("---\na: 1\n---\nb: 2\n").count, 2)
        XCTAssertEqual(try parse("{\"a\": [1, 2]}")[0].root["a"]?.sequence?.count, 2)
    }

    func testSyntaxErrorsCarryPositions() {
        XCTAssertThrowsError(try parse("a: 1\n b: 2\n")) { error in
            guard let error = error as? YAMLError else { return XCTFail("wrong error type") }
            XCTAssertEqual(error.mark.line, 2)
        }
    }

    func testBillionLaughsFailsFast() {
        var text = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        var previous = "a"
        for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]\n"
            previous = name
        }
        XCTAssertThrowsError(try parse(text)) { error in
            XCTAssertTrue((error as? YAMLError)?.message.contains("alias") ?? false, "\(error)")
        }
    }

    func testDeepNestingIsRefusedNotACrash() {
        let text = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertThrowsError(try parse(text)) { error in
            XCTAssertTrue((error as? YAMLError)?.message.contains("deeper") ?? false, "\(error)")
        }
    }

    func testShiftedPlacementMapsInnerPositions() throws {
        let stream = try parseYAML(Array("a: 1\nb: 2\n".utf8), placement: .shifted(lines: 10, columns: 6))
        XCTAssertEqual(stream.documents[0].root["b"]?.mark, Mark(line: 12, column: 10))
    }

    func testInvalidUTF8IsAnError() {
        XCTAssertThrowsError(try parseYAML([0x61, 0x3a, 0x20, 0xff, 0xfe, 0x0a]))
    }
}
