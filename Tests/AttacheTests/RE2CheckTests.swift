import XCTest

@testable import Attache

/// RE2Check: the RE2 grammar and program-size checks done where a regex is decoded (RE2OracleTests compares them with Envoy).
final class RE2CheckTests: XCTestCase {
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
}
