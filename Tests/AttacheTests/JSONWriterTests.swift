import XCTest

@testable import Attache

/// The streaming JSON writer: escaping, key order, numbers, nesting, parts rendered side by side, reserved places.
final class JSONWriterTests: XCTestCase {
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
}
