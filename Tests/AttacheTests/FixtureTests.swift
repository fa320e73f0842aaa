import Attache
import Foundation
import XCTest

/// Every case in `fixtures/`: the output must equal `expected/` byte for byte, and Envoy must accept it.
///
/// `UPDATE_FIXTURES=1 swift test --filter FixtureTests` rewrites `expected/` (review the diff like code).
final class FixtureTests: XCTestCase {
    static var updating: Bool { ProcessInfo.processInfo.environment["UPDATE_FIXTURES"] == "1" }

    func testFixturesMatchExpectedOutput() throws {
        let cases = FixtureCase.all()
        XCTAssertGreaterThan(cases.count, 0, "no fixture cases found under \(repositoryRoot.path)/fixtures")
        for fixture in cases {
            let produced = try fixture.produce()
            if Self.updating {
                try fixture.update(with: produced)
                continue
            }
            let expected = fixture.expected()
            XCTAssertEqual(
                Set(produced.keys), Set(expected.keys),
                "\(fixture.name): files in expected/ differ from the files produced")
            for (name, bytes) in produced.sorted(by: { $0.key < $1.key }) {
                guard let want = expected[name] else { continue }
                if want != bytes {
                    XCTFail(
                        "\(fixture.name)/expected/\(name) differs (UPDATE_FIXTURES=1 regenerates):\n\(firstDifferences(expected: want, actual: bytes))"
                    )
                }
            }
        }
    }

    /// Output must not depend on the order in which files are given, where the rules allow: reversing the input
    /// files of every multi-file case changes nothing.
    func testFileOrderDoesNotChangeOutput() throws {
        for fixture in FixtureCase.all() {
            let sources = try fixture.sources()
            guard sources.count > 1 else { continue }
            let forward = translate(sources, options: try fixture.options())
            let backward = translate(sources.reversed(), options: try fixture.options())
            XCTAssertEqual(forward.envoy, backward.envoy, "\(fixture.name): output depends on file order")
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

/// Results filled in from concurrent work, one slot per index.
final class Results<Value: Sendable>: @unchecked Sendable {
    private var slots: [Value?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Value) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    func get(_ index: Int) -> Value {
        lock.lock()
        defer { lock.unlock() }
        return slots[index]!
    }
}
