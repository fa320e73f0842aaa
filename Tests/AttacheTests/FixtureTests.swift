import Attache
import Foundation
import XCTest

/// Every case in `fixtures/`: the output must equal `expected/` byte for byte, and Envoy must accept it.
///
/// `UPDATE_FIXTURES=1 swift test --filter FixtureTests` rewrites `expected/` (review the diff like code).
final class FixtureTests: XCTestCase {
    static var updating: Bool { ProcessInfo.processInfo.environment["UPDATE_FIXTURES"] == "1" }

    /// Each case is checked on its own: a case that cannot be produced or differs is one failure naming it, and
    /// the other cases still run.
    func testFixturesMatchExpectedOutput() {
        let cases = FixtureCase.all()
        XCTAssertGreaterThan(cases.count, 0, "no fixture cases found under \(repositoryRoot.path)/fixtures")
        for fixture in cases {
            do {
                let produced = try fixture.produce()
                if Self.updating {
                    try fixture.update(with: produced)
                } else if let difference = Self.difference(produced: produced, expected: fixture.expected()) {
                    XCTFail("\(fixture.name): \(difference) (UPDATE_FIXTURES=1 regenerates)")
                }
            } catch {
                XCTFail("\(fixture.name): \(error)")
            }
        }
    }

    /// How the produced files differ from `expected/`, or nil when they are the same, byte for byte.
    static func difference(produced: [String: [UInt8]], expected: [String: [UInt8]]) -> String? {
        var problems: [String] = []
        let missing = Set(expected.keys).subtracting(produced.keys).sorted()
        let extra = Set(produced.keys).subtracting(expected.keys).sorted()
        if !missing.isEmpty { problems.append("not produced: \(missing.joined(separator: ", "))") }
        if !extra.isEmpty { problems.append("produced but not in expected/: \(extra.joined(separator: ", "))") }
        for (name, bytes) in produced.sorted(by: { $0.key < $1.key }) {
            guard let want = expected[name], want != bytes else { continue }
            problems.append("expected/\(name) differs:\n\(firstDifferences(expected: want, actual: bytes))")
        }
        return problems.isEmpty ? nil : problems.joined(separator: "\n")
    }

    /// Output must not depend on the order in which files are given, where the rules allow: reversing the input
    /// files of every multi-file case changes nothing.
    func testFileOrderDoesNotChangeOutput() {
        for fixture in FixtureCase.all() {
            do {
                let sources = try fixture.sources()
                guard sources.count > 1 else { continue }
                let forward = translate(sources, options: try fixture.options())
                let backward = translate(sources.reversed(), options: try fixture.options())
                XCTAssertEqual(forward.envoy, backward.envoy, "\(fixture.name): output depends on file order")
            } catch {
                XCTFail("\(fixture.name): \(error)")
            }
        }
    }

    /// Every bootstrap in `expected/` passes `envoy --mode validate`, run in the case directory so that
    /// `expected/endpoints/...` paths resolve.
    func testEnvoyAcceptsEveryFixtureBootstrap() throws {
        let envoy = try EnvoyLocator.require()
        let cases = FixtureCase.all().filter {
            FileManager.default.fileExists(atPath: $0.expectedDirectory.appendingPathComponent("bootstrap.json").path)
        }
        let bootstraps = cases.map { $0.expectedDirectory.appendingPathComponent("bootstrap.json") }
        XCTAssertGreaterThan(bootstraps.count, 0)
        let results = Results<(Int32, String)>(count: bootstraps.count)
        DispatchQueue.concurrentPerform(iterations: bootstraps.count) { index in
            let outcome =
                (try? runProcess(
                    envoy, ["--mode", "validate", "-c", "expected/bootstrap.json", "--log-level", "error"],
                    in: cases[index].directory))
                ?? (-1, "could not start envoy")
            results.set(index, outcome)
        }
        for (index, bootstrap) in bootstraps.enumerated() {
            let (status, output) = results.get(index)
            XCTAssertEqual(status, 0, "envoy rejected \(bootstrap.path):\n\(output.suffix(2000))")
        }
    }
}
