import Foundation
import XCTest

@testable import Attache

/// `diff` and `explain` against expected output files in `fixtures/review/`:
/// - `diff-*/old/`, `diff-*/new/` → `expected.txt` and `expected.json`;
/// - `explain-*/input.yaml` and `requests` (one request per line, as typed) → `expected.txt`.
/// `UPDATE_FIXTURES=1` rewrites the expected files.
final class ReviewTests: XCTestCase {
    let root = repositoryRoot.appendingPathComponent("fixtures/review")

    func cases(_ prefix: String) -> [URL] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).filter { $0.hasPrefix(prefix) }
            .sorted().map { root.appendingPathComponent($0) }
    }

    func run(_ arguments: [String]) -> (status: Int32, out: String, err: String) {
        let captured = CommandTests.Captured()
        let io = CommandIO(writeOut: { captured.out += $0 }, writeErr: { captured.err.append($0) }, readIn: { [] })
        let status = AttacheCLI.main(arguments, io: io)
        return (status, String(decoding: captured.out, as: UTF8.self), captured.err.joined(separator: "\n"))
    }

    /// Paths inside the output are made relative to the repository, so expected files do not depend on where it is.
    func relative(_ text: String) -> String {
        text.replacingOccurrences(of: repositoryRoot.path + "/", with: "")
    }

    func check(_ actual: String, against file: URL, line: UInt = #line) throws {
        if ProcessInfo.processInfo.environment["UPDATE_FIXTURES"] == "1" {
            try actual.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let expected = (try? String(contentsOf: file, encoding: .utf8)) ?? "<missing \(file.lastPathComponent)>"
        XCTAssertEqual(
            actual, expected,
            "\(file.path) differs (UPDATE_FIXTURES=1 regenerates):\n\(firstDifferences(expected: Array(expected.utf8), actual: Array(actual.utf8)))",
            line: line)
    }

    func testDiffCases() throws {
        let diffCases = cases("diff-")
        XCTAssertGreaterThanOrEqual(diffCases.count, 5)
        for directory in diffCases {
            let old = directory.appendingPathComponent("old").path, new = directory.appendingPathComponent("new").path
            let text = run(["diff", old, new])
            let json = run(["diff", "--format", "json", old, new])
            XCTAssertEqual(text.status, json.status)
            XCTAssertTrue(text.status == 0 || text.status == 1, text.err)
            try check(
                relative("exit status: \(text.status)\n" + text.out),
                against: directory.appendingPathComponent("expected.txt"))
            try check(relative(json.out), against: directory.appendingPathComponent("expected.json"))
        }
    }

    func testExplainCases() throws {
        let explainCases = cases("explain-")
        XCTAssertGreaterThanOrEqual(explainCases.count, 3)
        for directory in explainCases {
            let requests = try String(contentsOf: directory.appendingPathComponent("requests"), encoding: .utf8).split(
                separator: "\n")
            var output = ""
            for request in requests {
                let result = run(["explain", directory.appendingPathComponent("input.yaml").path, String(request)])
                output += "$ attache explain input.yaml \(request)\n\(result.out)exit status: \(result.status)\n\n"
            }
            try check(relative(output), against: directory.appendingPathComponent("expected.txt"))
        }
    }

    /// A translate --output directory read back diffs as "no change" against its own input, for the command line
    /// (two fixtures) and for every fixture that translates: whatever Attaché writes, `diff` reads back as written.
    func testTranslatedDirectoryRoundTrips() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("attache-roundtrip-\(getpid())")
        defer { try? FileManager.default.removeItem(at: output) }
        for fixture in ["seed-002-grey-release", "endpoint-argo-echo"] {
            let input = repositoryRoot.appendingPathComponent("fixtures/\(fixture)/input.yaml").path
            _ = run(["translate", "--output", output.path, input])
            let result = run(["diff", output.path, input])
            XCTAssertEqual(result.status, 0, "\(fixture): \(result.out)")
        }
        var compared = 0
        for fixture in FixtureCase.all() {
            let translation = translate(try fixture.sources(), options: try fixture.options())
            guard translation.isComplete else { continue }  // nothing is written for input that cannot be read
            try? FileManager.default.removeItem(at: output)
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
            try OutputFiles.write(translation.envoy, to: output.path)
            guard let readBack = try readEnvoyConfig(output.path) else {
                XCTFail("\(fixture.name): the output directory is not read back as Envoy config")
                continue
            }
            let diff = diffRouting(old: readBack.model, new: translation.model, oldDiagnostics: [], newDiagnostics: [])
            XCTAssertTrue(diff.isEmpty, "\(fixture.name): read back differs from what was written:\n\(diff.text)")
            compared += 1
        }
        XCTAssertGreaterThan(compared, 60, "most fixtures translate")
    }
}

/// `explain` checked against a real Envoy: for each request, the backends Envoy reaches, and their shares, are
/// the ones explain printed.
final class ExplainTrafficTests: XCTestCase {
    func testExplainMatchesEnvoy() throws {
        func mapping(_ name: String, _ prefix: String, _ service: String, _ extra: String = "") -> String {
            "---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: \(name)}\nspec: {prefix: \(prefix), service: \"\(service)\"\(extra)}\n"
        }
        let yaml =
            mapping("stable", "/svc/", "@a@") + mapping("gray", "/svc/", "@b@", ", weight: 20")
            + mapping("gray-header", "/svc/", "@b@", ", headers: {gray: true}")
            + mapping("half-a", "/half/", "@a@", ", weight: 30") + mapping("half-b", "/half/", "@c@", ", weight: 20")
            + mapping("host-only", "/h/", "@c@", ", host: \"*.example.org\"") + mapping("any-host", "/h/", "@a@")
            + mapping("posts", "/form/", "@b@", ", method: POST")
            + mapping("urgent", "/form/", "@c@", ", precedence: 5, headers: {x-urgent: \"1\"}")
        let harness = try TrafficHarness(backends: ["a", "b", "c"], yaml: yaml)
        defer { harness.stop() }
        let loaded = SourceLoader.load(paths: [harness.inputPath])
        let model = translate(loaded.sources, options: TranslationOptions()).model
        let backendByPort = Dictionary(uniqueKeysWithValues: harness.backends.ports.map { ($0.value, $0.key) })

        let requests: [(String, String, String, [(String, String)])] = [
            ("GET", "example.com", "/svc/x", []), ("GET", "example.com", "/svc/x", [("gray", "1")]),
            ("GET", "example.com", "/half/x", []), ("GET", "api.example.org", "/h/", []),
            ("GET", "example.com", "/h/", []),
            ("POST", "example.com", "/form/", []), ("GET", "example.com", "/form/", []),
            ("GET", "example.com", "/form/", [("x-urgent", "1")]),
            ("GET", "example.com", "/nowhere", []),
        ]
        for (method, host, path, headers) in requests {
            let explanation = explain(ProbeRequest(method: method, host: host, path: path, headers: headers), in: model)
            var expected: [String: Double] = [:]
            for outcome in explanation.outcomes {
                guard case .dns(_, let port)? = outcome.cluster?.discovery, let backend = backendByPort[port] else {
                    return XCTFail("explain named an upstream that is no test backend: \(outcome.cluster?.name ?? "?")")
                }
                expected[backend, default: 0] += Double(outcome.percent) / 100
            }
            if explanation.unrouted > 0 { expected["status:404"] = Double(explanation.unrouted) / 100 }
            let n = expected.count == 1 ? 50 : 1500
            let counts = try harness.count(n, path: path, method: method, host: host, headers: headers)
            let what = "\(method) \(host)\(path) \(headers)"
            if expected.count == 1 {
                XCTAssertEqual(counts, [expected.keys.first!: n], "\(what): explain said \(expected)")
            } else {
                XCTAssertEqual(
                    Set(counts.keys), Set(expected.keys), "\(what): explain said \(expected), Envoy sent \(counts)")
                for (backend, share) in expected { assertShare(counts, backend, share, of: n) }
            }
        }
    }
}

/// diff's indexed evaluation must give what a full scan of the route table gives.
final class RouteIndexTests: XCTestCase {
    func testIndexedEvaluationEqualsFullScan() throws {
        var compared = 0
        for fixture in FixtureCase.all() {
            let model = translate(try fixture.sources(), options: try fixture.options()).model
            let routes = model.routes
            let index = RouteIndex(routes)
            var probes = routes.compactMap(probeRequest(for:))
            probes += ["/", "/svc/x", "/ITEMS/7", "/exact/path", "/CaSe/y", "/api/v1/x", "/nothing"].map {
                ProbeRequest(host: "example.com", path: $0)
            }
            for probe in probes {
                let full = evaluate(probe, routes: routes), fast = evaluate(probe, routes: routes, index: index)
                XCTAssertEqual(fast.shares.map(\.route), full.shares.map(\.route), "\(fixture.name) \(probe.path)")
                XCTAssertEqual(fast.shares.map(\.percent), full.shares.map(\.percent), "\(fixture.name) \(probe.path)")
                XCTAssertEqual(fast.unrouted, full.unrouted, "\(fixture.name) \(probe.path)")
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, 200)
    }
}
