import XCTest

@testable import Attache

/// Canary-group admission (Emissary's rules for who may join a group) and the merging of the group's header
/// additions, case by case.
final class CanaryGroupTests: XCTestCase {
    private typealias Core = Mapping.GroupCoreFields
    private static let noCore = Core(prefixRegex: nil, prefixExact: nil, connectTimeoutMs: nil)

    func testAdmission() {
        let exact = HeaderMatcher(name: "x-ab", value: .exact("c"))
        let regex = HeaderMatcher(name: "x-ab", value: .regex("c"))
        let cases: [(name: String, group: [Mapping], admitted: [Int], codes: [DiagnosticCode])] = [
            ("one Mapping", [sampleMapping(prefix: "/a/")], [0], []),
            (
                "weights up to 100",
                [
                    sampleMapping(prefix: "/a/", name: "a", weight: 60),
                    sampleMapping(prefix: "/a/", name: "b", weight: 40),
                    sampleMapping(prefix: "/a/", name: "c"),
                ], [0, 1, 2], []
            ),
            (
                "the Mapping that passes 100 is refused, later ones still fit",
                [
                    sampleMapping(prefix: "/a/", name: "a", weight: 80),
                    sampleMapping(prefix: "/a/", name: "b", weight: 30),
                    sampleMapping(prefix: "/a/", name: "c", weight: 20),
                ], [0, 2], [.groupWeightsExceed100]
            ),
            (
                "a different connect_timeout_ms is refused",
                [
                    sampleMapping(
                        prefix: "/a/", name: "a",
                        coreFields: Core(prefixRegex: nil, prefixExact: nil, connectTimeoutMs: 100)),
                    sampleMapping(
                        prefix: "/a/", name: "b",
                        coreFields: Core(prefixRegex: nil, prefixExact: nil, connectTimeoutMs: 200)),
                ], [0], [.groupSettingConflict]
            ),
            (
                "leaving out what the first writes is allowed (only written fields count)",
                [
                    sampleMapping(
                        prefix: "/a/", name: "a",
                        coreFields: Core(prefixRegex: nil, prefixExact: nil, connectTimeoutMs: 100)),
                    sampleMapping(prefix: "/a/", name: "b", coreFields: Self.noCore),
                ], [0, 1], []
            ),
            (
                "writing what the first leaves out is refused",
                [
                    sampleMapping(prefix: "/a/", name: "a", coreFields: Self.noCore),
                    sampleMapping(
                        prefix: "/a/", name: "b",
                        coreFields: Core(prefixRegex: false, prefixExact: nil, connectTimeoutMs: nil)),
                ], [0], [.groupSettingConflict]
            ),
            (
                "matchers whose texts collide but differ are refused",
                [
                    sampleMapping(prefix: "/a/", name: "a", headers: [exact]),
                    sampleMapping(prefix: "/a/", name: "b", headers: [regex]),
                ], [0], [.groupSettingConflict]
            ),
        ]
        for test in cases {
            var log = DiagnosticLog()
            XCTAssertEqual(
                admitToGroup(test.group, module: AmbassadorModule(), log: &log).live, test.admitted, test.name)
            XCTAssertEqual(log.items.map(\.code), test.codes, test.name)
        }
    }

    func testHeaderAdditionsMerge() {
        func add(_ name: String, _ value: String, append: Bool = true) -> HeaderAddition {
            HeaderAddition(name: name, value: value, append: append)
        }
        let cases: [(name: String, lists: [[HeaderAddition]], want: [HeaderAddition])] = [
            ("nothing", [[], []], []),
            ("in order of first appearance", [[add("a", "1")], [add("b", "2")]], [add("a", "1"), add("b", "2")]),
            (
                "a later Mapping replaces an earlier one's header in place",
                [[add("a", "1"), add("b", "2")], [add("a", "3", append: false)]],
                [add("a", "3", append: false), add("b", "2")]
            ),
            ("names compare without case", [[add("X-Tag", "1")], [add("x-tag", "2")]], [add("x-tag", "2")]),
            ("the Module's defaults come first", [[add("m", "module")], [add("m", "mapping")]], [add("m", "mapping")]),
        ]
        for test in cases {
            XCTAssertEqual(mergedAdditions(test.lists), test.want, test.name)
        }
    }
}
