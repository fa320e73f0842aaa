import Foundation
import XCTest

@testable import Attache

/// The command line, called in-process: exit statuses, help, stdin, --output.
final class CommandTests: XCTestCase {
    final class Captured: @unchecked Sendable {
        var out: [UInt8] = []
        var err: [String] = []
    }

    func run(_ arguments: [String], stdin: String = "") -> (status: Int32, out: String, err: String) {
        let captured = Captured()
        let io = CommandIO(
            writeOut: { captured.out += $0 }, writeErr: { captured.err.append($0) }, readIn: { Array(stdin.utf8) })
        let status = AttacheCLI.main(arguments, io: io)
        return (status, String(decoding: captured.out, as: UTF8.self), captured.err.joined(separator: "\n"))
    }

    /// A Rollout without status is shown as a first release at weight 0 with every step still listed; Rollouts routed
    /// by Istio or by replica counts are left out; a Rollout mid-update marks its current step.
    func testRolloutPlanReadsStatusAsArgoDoes() {
        let input = repositoryRoot.appendingPathComponent("fixtures/rollout-no-status-other-routers/input.yaml").path
        let plan = run(["rollout", "plan", input])
        XCTAssertEqual(plan.status, 0, plan.err)
        XCTAssertTrue(plan.out.contains("Rollout default/shop:"), plan.out)
        XCTAssertTrue(plan.out.contains("no status (never reconciled)"), plan.out)
        XCTAssertTrue(plan.out.contains("canary weight now 0%"), plan.out)
        XCTAssertTrue(plan.out.contains("setWeight: 30"), plan.out)
        XCTAssertFalse(plan.out.contains("→"), "a first release is at no step:\n\(plan.out)")
        XCTAssertFalse(plan.out.contains("mesh"), plan.out)
        XCTAssertFalse(plan.out.contains("replicas-only"), plan.out)

        let midUpdate = run(
            ["rollout", "plan", "-"],
            stdin: """
                apiVersion: argoproj.io/v1alpha1
                kind: Rollout
                metadata: {name: shop}
                spec: {strategy: {canary: {stableService: a, canaryService: b, trafficRouting: {ambassador: {mappings: [m]}},
                  steps: [{setWeight: 30}, {pause: {}}]}}}
                status: {stableRS: 6b8d9f7c4, currentPodHash: 7f5c6d8b9, currentStepIndex: 1}
                """)
        XCTAssertTrue(midUpdate.out.contains("at step 1, canary weight now 30%"), midUpdate.out)
        XCTAssertTrue(midUpdate.out.contains("→ 1"), midUpdate.out)
    }

    func testHelp() {
        XCTAssertEqual(run(["--help"]).status, 0)
        let help = run(["translate", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.out.contains("--ambassador-id"))
        XCTAssertTrue(help.out.contains("--listen-port"))
        XCTAssertTrue(help.out.contains("--strict"))
        // `help COMMAND` is the command's help; rollout's is plan's, and `rollout --help` is not an error.
        XCTAssertEqual(run(["help", "translate"]).out, help.out)
        let rolloutHelp = run(["rollout", "--help"])
        XCTAssertEqual(rolloutHelp.status, 0, rolloutHelp.err)
        XCTAssertEqual(run(["help", "rollout"]).out, rolloutHelp.out)
        XCTAssertTrue(rolloutHelp.out.contains("DIR/<namespace>-<rollout>/step-N/"), rolloutHelp.out)
        // explain and diff list only the options that change what they answer.
        for command in ["explain", "diff"] {
            let text = run([command, "--help"]).out
            XCTAssertTrue(text.contains("--ambassador-id"), text)
            XCTAssertFalse(text.contains("--listen-port") || text.contains("--admin-port"), "\(command): \(text)")
        }
        let version = run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertEqual(version.out, "attache \(AttacheCLI.version)\n")
    }

    func testUsageErrorsExitTwoWithSuggestions() {
        let unknown = run(["translate", "--listen-prot", "1", "x.yaml"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.err.contains("did you mean --listen-port?"), unknown.err)
        // The error and one line pointing at the help, not the whole help.
        XCTAssertEqual(unknown.err.split(separator: "\n").count, 2, unknown.err)
        XCTAssertTrue(unknown.err.hasSuffix("run `attache translate --help` for usage"), unknown.err)
        XCTAssertEqual(run(["tranlsate"]).status, 2)
        XCTAssertTrue(run(["tranlsate"]).err.contains("did you mean translate?"))
        XCTAssertEqual(run(["translate"]).status, 2)
        XCTAssertEqual(run(["translate", "--listen-port", "http", "-"]).status, 2)
    }

    /// explain reads the request as curl would: a Host or :authority header is the host, a method may be any
    /// upper-case token, a URL may be host/path (and its scheme only http or https), and a header without a colon is
    /// a specific error.
    func testExplainRequestSyntax() {
        let yaml = """
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: api}
            spec: {prefix: /, service: api, host: shop.example.com}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: frontend}
            spec: {prefix: /, service: frontend}
            """
        for request in [
            ["/x", "-H", "Host: shop.example.com"], ["/x", "-H", ":authority: Shop.Example.com"],
            ["shop.example.com/x"], ["PURGE", "shop.example.com/x"],
        ] {
            let result = run(["explain", "-"] + request, stdin: yaml)
            XCTAssertEqual(result.status, 0, "\(request): \(result.err)")
            XCTAssertTrue(result.out.contains("Mapping default/api"), "\(request): \(result.out)")
        }
        XCTAssertTrue(run(["explain", "-", "PURGE", "shop.example.com/x"], stdin: yaml).out.hasPrefix("PURGE "))
        XCTAssertTrue(run(["explain", "-", "/x"], stdin: yaml).out.contains("Mapping default/frontend"))
        let noColon = run(["explain", "-", "/x", "-H", "gray"], stdin: yaml)
        XCTAssertEqual(noColon.status, 2)
        XCTAssertTrue(noColon.err.contains("-H 'gray' is not a header"), noColon.err)
        XCTAssertTrue(noColon.err.contains("run `attache explain --help` for usage"), noColon.err)
        let badScheme = run(["explain", "-", "ftp://shop.example.com/x"], stdin: yaml)
        XCTAssertEqual(badScheme.status, 2)
        XCTAssertTrue(badScheme.err.contains("is not http:// or https://"), badScheme.err)
        XCTAssertEqual(run(["explain", "-", "HTTPS://shop.example.com/x"], stdin: yaml).status, 0)
    }

    /// --strict turns warnings into exit 1 for CI gates; without it, warnings keep exit 0.
    func testStrictFailsOnWarnings() {
        let warned = """
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: a}
            spec: {prefix: /a/, service: a, method: get}
            """
        let plain = run(["translate", "-"], stdin: warned)
        XCTAssertEqual(plain.status, 0, plain.err)
        XCTAssertTrue(plain.err.contains("warning"), plain.err)
        XCTAssertEqual(run(["translate", "--strict", "-"], stdin: warned).status, 1)
        let clean =
            "apiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: a}\nspec: {prefix: /a/, service: a}\n"
        XCTAssertEqual(run(["translate", "--strict", "-"], stdin: clean).status, 0)
    }

    /// diff reads back every file and directory Attaché writes: a bootstrap, routes.json, clusters.json, xDS files
    /// and directories; files it cannot read are errors, never "no routing change".
    func testDiffReadsWrittenEnvoyFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("attache-diff-files-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        func mappings(weight: Int) -> String {
            """
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: stable}
            spec: {prefix: /shop/, service: shop}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: canary}
            spec: {prefix: /shop/, service: shop-canary, weight: \(weight)}
            """
        }
        for (side, weight) in [("a", 10), ("b", 30)] {
            let input = directory.appendingPathComponent("\(side).yaml")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try mappings(weight: weight).write(to: input, atomically: true, encoding: .utf8)
            let out = directory.appendingPathComponent("out-\(side)").path
            XCTAssertEqual(run(["translate", "--output", out, input.path]).status, 0)
            let xds = directory.appendingPathComponent("xds-\(side)")
            try FileManager.default.createDirectory(at: xds, withIntermediateDirectories: true)
            XCTAssertEqual(run(["watch", "--once", "--xds-dir", xds.path, input.path]).status, 0)
        }
        let d = directory.path
        for (old, new) in [
            ("out-a/bootstrap.json", "out-b/bootstrap.json"), ("out-a/routes.json", "out-b/routes.json"),
            ("xds-a/rds.json", "xds-b/rds.json"), ("xds-a", "xds-b"), ("out-a", "xds-b"),
            ("a.yaml", "out-b/bootstrap.json"),
        ] {
            let diff = run(["diff", "\(d)/\(old)", "\(d)/\(new)"])
            XCTAssertEqual(diff.status, 1, "\(old) → \(new): \(diff.out)\(diff.err)")
            XCTAssertTrue(diff.out.contains("10% → 30%"), "\(old) → \(new): \(diff.out)")
        }
        for (old, new) in [
            ("out-a/bootstrap.json", "xds-a"), ("out-a/clusters.json", "xds-b/cds.json"), ("a.yaml", "xds-a"),
        ] {
            let diff = run(["diff", "\(d)/\(old)", "\(d)/\(new)"])
            XCTAssertEqual(diff.status, 0, "\(old) → \(new): \(diff.out)\(diff.err)")
        }
        let mixed = run(["diff", "\(d)/out-a/routes.json", "\(d)/out-b/clusters.json"])
        XCTAssertEqual(mixed.status, 2, mixed.out)
        let dynamic = run(["diff", "\(d)/xds-a/bootstrap.json", "\(d)/xds-b/bootstrap.json"])
        XCTAssertEqual(dynamic.status, 2, dynamic.out)
        XCTAssertTrue(dynamic.err.contains("diff the directory"), dynamic.err)
        try Data("{\"hello\": 1}".utf8).write(to: directory.appendingPathComponent("other.json"))
        let other = run(["diff", "\(d)/other.json", "\(d)/out-b/routes.json"])
        XCTAssertEqual(other.status, 2, other.out)
        XCTAssertTrue(other.err.contains("neither Kubernetes objects nor Envoy config"), other.err)
    }

    /// Output written inside an input directory is not read back as input on the next run (translate --output,
    /// rollout plan --output, watch --xds-dir).
    func testOwnOutputInsideTheInputIsNotInput() throws {
        let deploy = FileManager.default.temporaryDirectory.appendingPathComponent("attache-deploy-\(getpid())")
        defer { try? FileManager.default.removeItem(at: deploy) }
        try FileManager.default.createDirectory(at: deploy, withIntermediateDirectories: true)
        try "apiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: a}\nspec: {prefix: /a/, service: a}\n"
            .write(to: deploy.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        let output = deploy.appendingPathComponent("envoy").path
        let first = run(["translate", deploy.path, "--output", output])
        let second = run(["translate", deploy.path, "--output", output])
        XCTAssertEqual(first.status, 0, first.err)
        XCTAssertEqual(second.status, 0, second.err)
        XCTAssertEqual(second.out, first.out)
        try FileManager.default.removeItem(atPath: output)
        let xds = deploy.appendingPathComponent("xds")
        try FileManager.default.createDirectory(at: xds, withIntermediateDirectories: true)
        for _ in 0..<2 {
            let watch = run(["watch", "--once", deploy.path, "--xds-dir", xds.path])
            XCTAssertEqual(watch.status, 0, watch.err)
            XCTAssertFalse(watch.err.contains("error"), watch.err)
        }
    }

    /// Messages a new user tripped over: a file named twice is read once (no "defined twice" pointing at itself),
    /// a step past a Rollout's end is said, a multi-byte character is never cut, an empty key is called empty.
    func testMessagesSayWhatHappened() throws {
        let example = repositoryRoot.appendingPathComponent("examples/grey-release.yaml").path
        let twice = run(["translate", example, example])
        XCTAssertEqual(twice.status, 0, twice.err)
        XCTAssertFalse(twice.err.contains("DuplicateObject"), twice.err)
        let rollout = repositoryRoot.appendingPathComponent("fixtures/rollout-header-step/input.yaml").path
        let pastEnd = run(["translate", "--rollout", "shop=step:99", rollout])
        XCTAssertTrue(pastEnd.err.contains("[RolloutStepOutOfRange] --rollout asks for step 99"), pastEnd.err)
        let odd = run(
            ["translate", "-"],
            stdin: """
                apiVersion: getambassador.io/v2
                kind: Mapping
                metadata: {name: x}
                spec: {prefix: /, service: sérvice, add_response_headers: {"": a}}
                """)
        XCTAssertTrue(odd.err.contains("has \"é\" in its host name"), odd.err)
        XCTAssertTrue(odd.err.contains("must be non-empty strings, but one is empty"), odd.err)
    }

    func testStdinAndExitStatuses() throws {
        let good =
            "apiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: a}\nspec: {prefix: /a/, service: a}\n"
        let ok = run(["translate", "-"], stdin: good)
        XCTAssertEqual(ok.status, 0, ok.err)
        let json = try JSONSerialization.jsonObject(with: Data(ok.out.utf8)) as? [String: Any]
        XCTAssertNotNil(json?["static_resources"])

        let partial = run(
            ["translate", "-"],
            stdin: good
                + "---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: b}\nspec: {prefix: /b/}\n")
        XCTAssertEqual(partial.status, 1)
        XCTAssertTrue(partial.err.contains("<stdin>:9:7: error: [MappingMissingField]"), partial.err)

        XCTAssertEqual(run(["translate", "-"], stdin: "a: [\n").status, 2)
        XCTAssertEqual(run(["translate", "/nonexistent/path.yaml"]).status, 2)
    }

    func testOutputDirectoryGetsThreeFilesAndIsDeterministic() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("attache-out-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = repositoryRoot.appendingPathComponent("examples/grey-release.yaml").path
        XCTAssertEqual(run(["translate", "--output", directory.path, input]).status, 0)
        let first = try ["bootstrap.json", "routes.json", "clusters.json"].map {
            try Data(contentsOf: directory.appendingPathComponent($0))
        }
        XCTAssertEqual(run(["translate", "--output", directory.path, input]).status, 0)
        let second = try ["bootstrap.json", "routes.json", "clusters.json"].map {
            try Data(contentsOf: directory.appendingPathComponent($0))
        }
        XCTAssertEqual(first, second)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [], "temp files must not be left behind")
    }

    /// The bootstrap printed on stdout is the one `--output` writes (one is rendered whole, the other streamed).
    func testPrintedBootstrapEqualsWrittenBootstrap() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("attache-same-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        for fixture in ["endpoint-argo-echo", "module-timeout-and-defaults", "route-order-precedence"] {
            let input = repositoryRoot.appendingPathComponent("fixtures/\(fixture)/input.yaml").path
            let printed = run(["translate", input])
            XCTAssertEqual(run(["translate", "--output", directory.path, input]).status, printed.status)
            let written = try String(contentsOf: directory.appendingPathComponent("bootstrap.json"), encoding: .utf8)
            XCTAssertEqual(printed.out, written, fixture)
        }
    }

    /// A bootstrap large enough to be cut into many pieces, written in 1 to 64 shares side by side, is byte for
    /// byte the bootstrap one writer renders whole.
    func testBootstrapWrittenInSharesEqualsOneWriter() throws {
        var text = ""
        for i in 0..<3000 {
            text +=
                "---\napiVersion: getambassador.io/v3alpha1\nkind: Mapping\nmetadata: {name: m\(i), namespace: ns\(i % 7)}\n"
            text += "spec: {hostname: '*', prefix: /app\(i)/, service: 'svc\(i):80', timeout_ms: \(1000 + i)}\n"
        }
        let translation = translate([SourceFile(name: "large.yaml", text: text)], options: TranslationOptions())
        XCTAssertTrue(translation.isComplete)
        let whole = JSONWriter.render(translation.envoy.bootstrap)
        XCTAssertGreaterThan(whole.count, 3 << 20, "large enough for many marks")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("attache-shares-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for width in [1, 2, 3, 5, 64] {
            try OutputFiles.write(translation.envoy, to: directory.path, width: width)
            let written = Array(try Data(contentsOf: directory.appendingPathComponent(OutputFiles.bootstrap)))
            XCTAssertEqual(written.count, whole.count, "width \(width)")
            XCTAssertTrue(written == whole, "width \(width): \(firstDifferences(expected: whole, actual: written))")
        }
    }

    /// A file that changed after it was streamed (so the planned layout is wrong), or is gone, fails the bootstrap
    /// write and leaves the previous bootstrap in place, with no temp file behind.
    func testEmbeddingAChangedFileKeepsThePreviousBootstrap() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("attache-changed-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = repositoryRoot.appendingPathComponent("examples/grey-release.yaml").path
        XCTAssertEqual(run(["translate", "--output", directory.path, input]).status, 0)
        let bootstrap = directory.appendingPathComponent(OutputFiles.bootstrap)
        let before = try Data(contentsOf: bootstrap)
        let routes = directory.appendingPathComponent(OutputFiles.routes).path
        let size = try Data(contentsOf: URL(fileURLWithPath: routes)).count
        let layout = EmbeddingWriter.layout { writer, leaveOut in
            writer.object { o in
                o.key("routes")
                leaveOut(&o, routes)
            }
        }
        for marks in [[LineFeedMark(offset: size + 10, lineFeeds: 3)], [LineFeedMark(offset: size, lineFeeds: 0)]] {
            XCTAssertThrowsError(
                try EmbeddingWriter.write(
                    skeleton: layout.skeleton, embeds: layout.embeds,
                    files: [routes: StreamedFile(path: routes, marks: marks)],
                    to: OutputFiles.bootstrap, in: directory.path))
        }
        XCTAssertThrowsError(
            try EmbeddingWriter.write(
                skeleton: layout.skeleton, embeds: layout.embeds,
                files: [
                    routes: StreamedFile(
                        path: directory.path + "/gone.json", marks: [LineFeedMark(offset: 10, lineFeeds: 1)])
                ],
                to: OutputFiles.bootstrap, in: directory.path))
        XCTAssertEqual(try Data(contentsOf: bootstrap), before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [])
    }

    func testUnwritableOutputIsAnErrorBeforeTranslating() {
        let result = run(["translate", "--output", "/proc/attache-cannot-write", "-"], stdin: "")
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.err.contains("/proc/attache-cannot-write"), result.err)
    }

    func testDirectoryInputIsReadRecursivelyInSortedOrder() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("attache-in-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try "apiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: a}\nspec: {prefix: /a/, service: a}\n"
            .write(to: directory.appendingPathComponent("sub/a.yml"), atomically: true, encoding: .utf8)
        try
            "{\"apiVersion\": \"getambassador.io/v2\", \"kind\": \"Mapping\", \"metadata\": {\"name\": \"b\"}, \"spec\": {\"prefix\": \"/b/\", \"service\": \"b\"}}"
            .write(to: directory.appendingPathComponent("b.json"), atomically: true, encoding: .utf8)
        try "not: [yaml".write(to: directory.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let loaded = SourceLoader.load(paths: [directory.path])
        XCTAssertEqual(loaded.sources.map { ($0.name as NSString).lastPathComponent }, ["b.json", "a.yml"])
        let translation = translate(loaded.sources, options: TranslationOptions())
        XCTAssertEqual(translation.model.routes.count, 2)
    }
}
