import Foundation
import XCTest

@testable import Attache

/// `attache watch` with a real Envoy: twenty changes under continuous traffic without a failed request, the last
/// good config surviving broken input, and the same with a ConfigMap-style directory.
final class SidecarTrafficTests: XCTestCase {
    /// Writes the input: stable + canary (backend `canary`, or `canary2`) at `weight`, and the `extra` Mapping when
    /// asked. Moving the canary to `canary2` adds a cluster and removes one while traffic flows.
    static func input(weight: Int, extra: Bool, canary: String = "canary") -> String {
        var text = """
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: stable}
            spec: {prefix: /app/, service: "@stable@"}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: canary}
            spec: {prefix: /app/, service: "@\(canary)@", weight: \(weight)}

            """
        if extra {
            text +=
                "---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: extra}\nspec: {prefix: /extra/, service: \"@extra@\"}\n"
        }
        return text
    }

    /// How an input change reaches the watched path.
    enum InputLayout {
        /// One file, rewritten in place (truncate and write, as `cat > file` does).
        case plainFile
        /// A Kubernetes ConfigMap volume: `m.yaml -> ..data/m.yaml`, `..data -> ..<timestamp>`, swapped by rename.
        case configMap
    }

    func testTwentyChangesWithoutAFailedRequestPlainFile() throws {
        try runScenario(.plainFile)
    }

    func testTwentyChangesWithoutAFailedRequestConfigMap() throws {
        try runScenario(.configMap)
    }

    func runScenario(_ layout: InputLayout) throws {
        _ = try EnvoyLocator.require()
        let backends = try LoopbackBackends(names: ["stable", "canary", "canary2", "extra"])
        defer { backends.stop() }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("attache-sidecar-\(UUID().uuidString)")
        let inputDirectory = root.appendingPathComponent("input"), xds = root.appendingPathComponent("xds")
        try FileManager.default.createDirectory(at: inputDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: xds, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }

        func render(_ text: String) -> String {
            var text = text
            for (name, port) in backends.ports {
                text = text.replacingOccurrences(of: "@\(name)@", with: "127.0.0.1:\(port)")
            }
            return text
        }
        var generation = 0
        func setInput(_ text: String) throws {
            generation += 1
            switch layout {
            case .plainFile:
                try Data(render(text).utf8).write(to: inputDirectory.appendingPathComponent("m.yaml"))  // in place
            case .configMap:
                let fm = FileManager.default
                let version = "..v\(generation)"
                try fm.createDirectory(
                    at: inputDirectory.appendingPathComponent(version), withIntermediateDirectories: true)
                try Data(render(text).utf8).write(to: inputDirectory.appendingPathComponent("\(version)/m.yaml"))
                let temp = inputDirectory.appendingPathComponent("..data_tmp").path
                try? fm.removeItem(atPath: temp)
                try fm.createSymbolicLink(atPath: temp, withDestinationPath: version)
                XCTAssertEqual(rename(temp, inputDirectory.appendingPathComponent("..data").path), 0)
                if !fm.fileExists(atPath: inputDirectory.appendingPathComponent("m.yaml").path) {
                    try fm.createSymbolicLink(
                        atPath: inputDirectory.appendingPathComponent("m.yaml").path,
                        withDestinationPath: "..data/m.yaml")
                }
                try? fm.removeItem(at: inputDirectory.appendingPathComponent("..v\(generation - 1)"))
            }
        }
        try setInput(Self.input(weight: 0, extra: false))

        let sidecar = try BackgroundSidecar(source: FileInputSource(paths: [inputDirectory.path]), directory: xds)
        defer { sidecar.stop() }
        let (log, listenPort, adminPort) = (sidecar.log, sidecar.listenPort, sidecar.adminPort)
        let rds = xds.appendingPathComponent("rds.json").path
        let rtds = xds.appendingPathComponent("rtds.json").path
        XCTAssertTrue(
            waitUntil(5) { FileManager.default.fileExists(atPath: rds) }, "sidecar wrote no rds.json:\n\(log.text)")
        let envoy = try EnvoyProcess(
            bootstrapPath: xds.appendingPathComponent("bootstrap.json").path, adminPort: adminPort)
        defer { envoy.stop() }

        // Continuous traffic on /app/ from a second thread, bounded in count and time.
        let load = BackgroundLoad(port: listenPort, path: "/app/x", maxRequests: 200_000, maxSeconds: 150)
        load.start()
        defer { load.stop() }
        let client = HTTPClient(port: listenPort)
        defer { client.close() }

        var writes = log.text.components(separatedBy: " wrote ").count
        /// The versions of the routes and the weights layer on disk.
        func versions() -> (routes: String, weights: String) {
            func version(_ path: String) -> String {
                discoveryVersion(Array((try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()))
            }
            return (version(rds), version(rtds))
        }
        /// Waits for the sidecar to finish writing for a change (its "wrote ..." line: routes, weights or both),
        /// then for Envoy to report both versions on disk: all within 2 s.
        func expectNewVersionLive(after previous: (routes: String, weights: String), _ what: String) -> (
            routes: String, weights: String
        ) {
            let changedAt = Date()
            var now = previous
            XCTAssertTrue(
                waitUntil(2) {
                    guard log.text.components(separatedBy: " wrote ").count > writes else { return false }
                    now = versions()
                    return now != previous
                }, "\(what): the sidecar wrote no new routes or weights within 2 s:\n\(log.text)")
            writes = log.text.components(separatedBy: " wrote ").count
            XCTAssertTrue(
                waitUntil(2 - Date().timeIntervalSince(changedAt)) {
                    guard let stats = (try? envoy.admin("/stats?filter=(rds|runtime)"))?.text else { return false }
                    return stats.contains("rds.attache-routes.version_text: \"\(now.routes)\"")
                        && stats.contains("runtime.version_text: \"\(now.weights)\"")
                }, "\(what): Envoy did not report routes \(now.routes) and weights \(now.weights) within 2 s")
            return now
        }
        func share(_ weight: Int, _ what: String, canary: String = "canary") throws {
            var counts: [String: Int] = [:]
            for _ in 0..<400 {
                let response = try client.send(path: "/app/x")
                counts[response.backend ?? "status:\(response.status)", default: 0] += 1
            }
            assertShare(counts, canary, Double(weight) / 100, of: 400)
        }

        var version = versions()
        XCTAssertTrue(
            waitUntil(2) {
                (try? envoy.admin("/stats?filter=rds"))?.text.contains("version_text: \"\(version.routes)\"") ?? false
            })
        var weightOnlySteps = 0
        var extra = false
        var changes = 0
        for round in 0..<4 {
            let canary = round < 2 ? "canary" : "canary2"
            for weight in [30, 60, 100, 0] {
                try setInput(Self.input(weight: weight, extra: extra, canary: canary))
                changes += 1
                let before = version
                version = expectNewVersionLive(after: version, "round \(round), weight \(weight)")
                if weight == 60 {
                    // 30% → 60%: the same routes, another weight: only the runtime layer is rewritten.
                    XCTAssertEqual(version.routes, before.routes, "a weight step rewrote rds.json")
                    XCTAssertNotEqual(version.weights, before.weights)
                    weightOnlySteps += 1
                    // diff reads the weights layer over the routes' stale defaults: the directory routes as the input
                    // does (clusters removed earlier are still retained there, so only routes are compared).
                    let captured = CommandTests.Captured()
                    let io = CommandIO(writeOut: { captured.out += $0 }, writeErr: { captured.err.append($0) }) { [] }
                    _ = AttacheCLI.main(["diff", "--format", "json", xds.path, inputDirectory.path], io: io)
                    let diff = try JSONSerialization.jsonObject(with: Data(captured.out)) as? [String: Any]
                    XCTAssertEqual(
                        (diff?["routes"] as? [Any])?.count, 0, String(decoding: captured.out, as: UTF8.self))
                }
                try share(weight, "weight \(weight)", canary: canary)
            }
            extra.toggle()
            try setInput(Self.input(weight: 0, extra: extra, canary: canary))
            changes += 1
            version = expectNewVersionLive(after: version, "round \(round), extra \(extra)")
            let extraResponse = try client.send(path: "/extra/")
            XCTAssertEqual(
                extra ? extraResponse.backend : "status:\(extraResponse.status)", extra ? "extra" : "status:404")
        }
        XCTAssertEqual(changes, 20)
        XCTAssertEqual(weightOnlySteps, 4)

        // Broken input: nothing is written, Envoy keeps routing on the last good config.
        try setInput("apiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: broken\n")
        XCTAssertTrue(waitUntil(3) { log.text.contains("keeping version") }, "no 'keeping version' line:\n\(log.text)")
        XCTAssertTrue(versions() == version, "broken input changed the files")
        try share(0, "after broken input")
        // Fixed: the next version goes live.
        try setInput(Self.input(weight: 60, extra: false, canary: "canary2"))
        version = expectNewVersionLive(after: version, "fixed input")
        try share(60, "after the fix", canary: "canary2")

        load.stop()
        XCTAssertGreaterThan(load.completed, 1000, "the background load barely ran")
        XCTAssertEqual(load.failures, [], "requests failed during reconfiguration (\(load.completed) sent)")
    }
}

/// The sidecar's side: signals, a killed run, and start-up errors, with the real `attache` binary.
final class SidecarProcessTests: XCTestCase {
    func testSigtermFinishesCleanlyAndRestartWritesNothingNew() throws {
        let binary = try attacheBinary()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("attache-sig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("xds"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("m.yaml")
        try "apiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: a}\nspec: {prefix: /a/, service: a}\n"
            .write(to: input, atomically: true, encoding: .utf8)
        let xds = root.appendingPathComponent("xds").path

        func start() throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["watch", input.path, "--xds-dir", xds, "--admin-port", "0"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            XCTAssertTrue(waitUntil(5) { FileManager.default.fileExists(atPath: xds + "/rds.json") })
            return process
        }
        // kill -9 mid-run, then a restart: the files it finds are complete and unchanged files are not rewritten.
        let first = try start()
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let before = try FileManager.default.attributesOfItem(atPath: xds + "/rds.json")[.modificationDate] as? Date
        XCTAssertNotNil(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: xds + "/rds.json"))))
        usleep(50_000)
        let second = try start()
        usleep(300_000)
        let after = try FileManager.default.attributesOfItem(atPath: xds + "/rds.json")[.modificationDate] as? Date
        XCTAssertEqual(before, after, "an unchanged translation rewrote rds.json after a restart")
        // SIGTERM: exit 0, no temp files left.
        kill(second.processIdentifier, SIGTERM)
        XCTAssertTrue(waitUntil(5) { !second.isRunning })
        XCTAssertEqual(second.terminationStatus, 0)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: xds).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    func testMissingOrUnwritableDirectoryFailsAtStart() throws {
        let captured = CommandTests.Captured()
        let io = CommandIO(writeOut: { captured.out += $0 }, writeErr: { captured.err.append($0) }, readIn: { [] })
        let input = repositoryRoot.appendingPathComponent("examples/grey-release.yaml").path
        XCTAssertEqual(AttacheCLI.main(["watch", input, "--xds-dir", "/nonexistent/xds", "--once"], io: io), 2)
        XCTAssertTrue(captured.err.joined().contains("does not exist"), captured.err.joined())
        XCTAssertEqual(AttacheCLI.main(["watch", input, "--xds-dir", "/proc", "--once"], io: io), 2)
        XCTAssertTrue(captured.err.joined().contains("not writable"), captured.err.joined())
    }

    func testOnceWritesEveryFileAndEnvoyAcceptsTheBootstrap() throws {
        let envoy = try EnvoyLocator.require()
        let xds = FileManager.default.temporaryDirectory.appendingPathComponent("attache-once-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: xds, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: xds) }
        let captured = CommandTests.Captured()
        let io = CommandIO(writeOut: { captured.out += $0 }, writeErr: { captured.err.append($0) }, readIn: { [] })
        let input = repositoryRoot.appendingPathComponent("fixtures/endpoint-argo-echo/input.yaml").path
        XCTAssertEqual(
            AttacheCLI.main(["watch", input, "--xds-dir", xds.path, "--once"], io: io), 0,
            captured.err.joined(separator: "\n"))
        let files = Set(FileManager.default.subpaths(atPath: xds.path) ?? [])
        XCTAssertTrue(
            files.isSuperset(of: [
                "bootstrap.json", "lds.json", "cds.json", "rds.json", "rtds.json",
                "endpoints/k8s_default_echo-stable_80.json", "lds.pb", "cds.pb", "rds.pb", "rtds.pb",
                "endpoints/k8s_default_echo-stable_80.pb",
            ]), "\(files)")
        let result = try runProcess(
            envoy, ["--mode", "validate", "-c", xds.appendingPathComponent("bootstrap.json").path])
        XCTAssertEqual(result.status, 0, result.output)
    }

    /// The sidecar's log: each line starts with an RFC 3339 time and a level; with `--log-format json` each line is
    /// one JSON object with time, level, msg and the event's fields. The first line names the version.
    func testLogLinesCarryTimeAndLevel() throws {
        let xds = FileManager.default.temporaryDirectory.appendingPathComponent("attache-log-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: xds, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: xds) }
        let input = repositoryRoot.appendingPathComponent("examples/grey-release.yaml").path
        for format in ["text", "json"] {
            try? FileManager.default.removeItem(at: xds.appendingPathComponent("rds.json"))
            let captured = CommandTests.Captured()
            let io = CommandIO(writeOut: { captured.out += $0 }, writeErr: { captured.err.append($0) }, readIn: { [] })
            XCTAssertEqual(
                AttacheCLI.main(["watch", "--once", "--log-format", format, input, "--xds-dir", xds.path], io: io), 0)
            XCTAssertGreaterThanOrEqual(captured.err.count, 2, "\(captured.err)")
            for line in captured.err {
                if format == "text" {
                    let parts = line.split(separator: " ", maxSplits: 2)
                    XCTAssertEqual(parts.count, 3, line)
                    XCTAssertNotNil(logTime(String(parts[0])), line)
                    XCTAssertTrue(["info", "warning", "error"].contains(String(parts[1])), line)
                } else {
                    let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                    XCTAssertNotNil((object?["time"] as? String).flatMap(logTime), line)
                    XCTAssertNotNil(object?["level"] as? String, line)
                    XCTAssertNotNil(object?["msg"] as? String, line)
                }
            }
            XCTAssertTrue(captured.err[0].contains("attache \(AttacheCLI.version) watching"), captured.err[0])
            XCTAssertTrue(
                captured.err.contains { $0.contains("version") && $0.contains("rds.json") }, "\(captured.err)")
        }
    }

    /// Started on input it cannot translate, and with nothing on disk, the sidecar writes an empty but valid config
    /// (bootstrap last): Envoy starts on it and answers 404, then serves the fixed input.
    func testBrokenFirstInputStartsEnvoyOnAnEmptyConfig() throws {
        _ = try EnvoyLocator.require()
        let scratch = try WatchScratch("broken")
        defer { scratch.remove() }
        let broken = try scratch.once("apiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: broken\n")
        XCTAssertEqual(broken.status, 2)
        XCTAssertTrue(broken.log.contains("writing an empty config"), broken.log)
        let files = Set(FileManager.default.subpaths(atPath: scratch.xds.path) ?? [])
        XCTAssertTrue(files.isSuperset(of: ["bootstrap.json", "lds.json", "cds.json", "rds.json"]), "\(files)")
        let envoy = try EnvoyProcess(bootstrapPath: scratch.bootstrapPath, adminPort: scratch.adminPort)
        defer { envoy.stop() }
        let listenPort = scratch.listenPort
        let client = HTTPClient(port: listenPort)
        defer { client.close() }
        XCTAssertTrue(waitUntil(10) { (try? client.send(path: "/a/x").status) == 404 }, envoy.log)
        // Fixed: the Mapping's upstream is a closed loopback port, so a routed request gets 503, not 404.
        let fixed =
            "apiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: a}\nspec: {prefix: /a/, service: \"127.0.0.1:1\"}\n"
        let fixedRun = try scratch.once(fixed)
        XCTAssertEqual(fixedRun.status, 0, fixedRun.log)
        XCTAssertTrue(waitUntil(10) { (try? HTTPClient(port: listenPort).send(path: "/a/x").status) == 503 }, envoy.log)
    }
}

/// `watch --envoy-admin`: the sidecar reads Envoy's stats after each write and says whether Envoy applied it.
final class SidecarEnvoyAdminTests: XCTestCase {
    /// With Listeners and Hosts the routes are in one file per filter chain (`rds-<chain>.json`), read by that
    /// chain's connection manager: those are confirmed too, and a rejected one is named.
    func testEnvoyAdminConfirmsEachFilterChainsRoutes() throws {
        _ = try EnvoyLocator.require()
        let scratch = try WatchScratch("admin-edge")
        defer { scratch.remove() }
        let port = try freeLoopbackPort()
        let edge = """
            apiVersion: getambassador.io/v3alpha1
            kind: Listener
            metadata: {name: web, namespace: default}
            spec: {port: \(port), protocol: HTTP, securityModel: XFP, hostBinding: {namespace: {from: ALL}}}
            ---
            apiVersion: getambassador.io/v3alpha1
            kind: Host
            metadata: {name: any, namespace: default}
            spec: {hostname: "*", requestPolicy: {insecure: {action: Route}}}
            ---
            apiVersion: getambassador.io/v3alpha1
            kind: Mapping
            metadata: {name: a, namespace: default}
            spec: {hostname: "*", prefix: /a/, service: a}

            """
        func once(_ yaml: String) throws -> (status: Int32, log: String) {
            try scratch.once(yaml, ["--envoy-admin", "http://127.0.0.1:\(scratch.adminPort)"])
        }
        _ = try once(edge)
        let envoy = try EnvoyProcess(bootstrapPath: scratch.bootstrapPath, adminPort: scratch.adminPort)
        defer { envoy.stop() }
        let applied = try once(edge.replacingOccurrences(of: "/a/", with: "/b/"))
        XCTAssertEqual(applied.status, 0, applied.log)
        XCTAssertTrue(applied.log.contains("envoy applied"), applied.log)
        // The same rejection as below (regex_max_size raised after Envoy started), now in a chain's route file.
        let rejected = try once(
            edge
                + "---\napiVersion: getambassador.io/v2\nkind: Module\nmetadata: {name: ambassador}\nspec: {config: {regex_max_size: 1000}}\n"
                + "---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: long}\nspec: {prefix: /long/, service: long, regex_headers: {x-token: \"\(String(repeating: "x", count: 500))\"}}\n"
        )
        XCTAssertEqual(rejected.status, 1, rejected.log)
        XCTAssertTrue(rejected.log.contains(" error envoy REJECTED rds web-http"), rejected.log)
    }

    func testEnvoyAdminReportsAppliedAndRejectedVersions() throws {
        _ = try EnvoyLocator.require()
        let scratch = try WatchScratch("admin")
        defer { scratch.remove() }
        let xds = scratch.xds
        func once(_ yaml: String) throws -> (status: Int32, log: String) {
            try scratch.once(yaml, ["--envoy-admin", "http://127.0.0.1:\(scratch.adminPort)"])
        }
        func servedRoutes(_ envoy: EnvoyProcess) throws -> String {
            let body = try envoy.admin("/stats?filter=rds.attache-routes.version_text").text
            return body.split(separator: "\"").dropFirst().first.map(String.init) ?? ""
        }
        let mapping =
            "apiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: a}\nspec: {prefix: /a/, service: a}\n"
        // No Envoy yet: the write happens, and the sidecar says it cannot confirm (a warning, not a failure).
        let first = try once(mapping)
        XCTAssertEqual(first.status, 0, first.log)
        XCTAssertTrue(first.log.contains("cannot confirm with Envoy"), first.log)
        let envoy = try EnvoyProcess(bootstrapPath: scratch.bootstrapPath, adminPort: scratch.adminPort)
        defer { envoy.stop() }

        // A change Envoy applies.
        let applied = try once(mapping.replacingOccurrences(of: "/a/", with: "/b/"))
        XCTAssertEqual(applied.status, 0, applied.log)
        XCTAssertTrue(applied.log.contains("envoy applied"), applied.log)
        let good = try servedRoutes(envoy)
        XCTAssertFalse(good.isEmpty)

        // An rds.json (and the rds.pb Envoy reads) written by hand that Envoy refuses (a header Envoy may not add):
        // Envoy keeps serving the sidecar's version; the next run of the sidecar writes its own again, and Envoy
        // applies that.
        let bad =
            #"{"version_info": "badbad00", "resources": [{"@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "name": "attache-routes", "virtual_hosts": [{"name": "x", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "cluster_a"}, "request_headers_to_add": [{"header": {"key": "host", "value": "x"}}]}]}]}]}"#
        try bad.write(to: xds.appendingPathComponent("rds.json"), atomically: true, encoding: .utf8)
        try Data(protobufEncoding(ofJSON: Array(bad.utf8), as: Envoy.discoveryResponseMessage)).write(
            to: xds.appendingPathComponent("rds.pb"), options: .atomic)
        XCTAssertTrue(
            waitUntil(5) {
                (try? envoy.admin("/stats?filter=rds.attache-routes.update_rejected").text.contains(": 1")) == true
            }, "Envoy did not reject the hand-written rds.json")
        XCTAssertEqual(try servedRoutes(envoy), good)
        let recovered = try once(mapping.replacingOccurrences(of: "/a/", with: "/b/"))
        XCTAssertEqual(recovered.status, 0, recovered.log)
        XCTAssertTrue(recovered.log.contains("envoy applied"), recovered.log)
        XCTAssertEqual(try servedRoutes(envoy), good)

        // A version Envoy rejects although Attaché checked it: the Module raises regex_max_size, which Envoy reads
        // only from the bootstrap when it starts, and a Mapping uses a regex over the old limit.
        let module =
            "---\napiVersion: getambassador.io/v2\nkind: Module\nmetadata: {name: ambassador}\nspec: {config: {regex_max_size: 1000}}\n"
        let long =
            "---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: long}\nspec: {prefix: /long/, service: long, regex_headers: {x-token: \"\(String(repeating: "x", count: 500))\"}}\n"
        let rejected = try once(mapping.replacingOccurrences(of: "/a/", with: "/b/") + module + long)
        XCTAssertEqual(rejected.status, 1, rejected.log)
        XCTAssertTrue(rejected.log.contains(" error envoy REJECTED rds"), rejected.log)
        XCTAssertTrue(rejected.log.contains("still serving \(good)"), rejected.log)
        XCTAssertEqual(try servedRoutes(envoy), good)
    }
}

/// The `attache` executable next to the test bundle (built by `swift build --build-tests`, which scripts/test runs).
func attacheBinary(file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let candidates = [
        Bundle(for: SidecarProcessTests.self).bundleURL.deletingLastPathComponent().appendingPathComponent("attache")
            .path,
        repositoryRoot.appendingPathComponent(".build/debug/attache").path,
    ]
    if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
    XCTFail(
        "the attache executable is not built; run `swift build --build-tests` (scripts/test does)", file: file,
        line: line)
    throw XCTSkip("attache binary missing")
}

/// Polls `condition` every 20 ms for up to `seconds`.
func waitUntil(_ seconds: TimeInterval, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(max(0, seconds))
    repeat {
        if condition() { return true }
        usleep(20_000)
    } while Date() < deadline
    return condition()
}

/// Collects what the in-process sidecar logs.
final class SidecarLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    var io: CommandIO {
        CommandIO(
            writeOut: { [self] in append(String(decoding: $0, as: UTF8.self)) }, writeErr: { [self] in append($0) },
            readIn: { [] })
    }

    private func append(_ line: String) {
        lock.lock()
        lines.append(line)
        lock.unlock()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return lines.joined(separator: "\n")
    }
}

/// Requests sent one after another from a background thread until stopped, or until the count or time bound;
/// records every response that is not a 200 from a backend.
final class BackgroundLoad: @unchecked Sendable {
    let port: Int, path: String, maxRequests: Int, maxSeconds: TimeInterval
    private let lock = NSLock()
    private var stopped = false
    private var done = DispatchSemaphore(value: 0)
    private(set) var completed = 0
    private(set) var failures: [String] = []

    init(port: Int, path: String, maxRequests: Int, maxSeconds: TimeInterval) {
        self.port = port
        self.path = path
        self.maxRequests = maxRequests
        self.maxSeconds = maxSeconds
    }

    func start() {
        Thread.detachNewThread { [self] in
            let client = HTTPClient(port: port)
            let deadline = Date().addingTimeInterval(maxSeconds)
            while !isStopped, completed < maxRequests, Date() < deadline {
                let outcome: String?
                do {
                    let response = try client.send(path: path)
                    outcome =
                        response.status == 200 && response.backend != nil
                        ? nil : "status \(response.status): \(response.text.prefix(200))"
                } catch {
                    outcome = "\(error)"
                }
                lock.lock()
                completed += 1
                if let outcome, failures.count < 20 { failures.append(outcome) }
                lock.unlock()
            }
            client.close()
            done.signal()
        }
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    func stop() {
        lock.lock()
        let wasStopped = stopped
        stopped = true
        lock.unlock()
        if !wasStopped { _ = done.wait(timeout: .now() + 15) }
    }
}

/// A time as the sidecar's log writes it (RFC 3339 with fractional seconds), or nil.
func logTime(_ text: String) -> Date? {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.date(from: text)
}

/// What Envoy loads from the binary twins equals what it loads from the JSON files: for inputs that between them
/// use most of what Attaché writes (route policies, cluster settings, ext_authz, the connection manager's
/// settings, upstream TLS through SDS, EDS, runtime weights), the sidecar writes once with `--xds-encoding json`
/// and once with the default, Envoy starts on each, and its whole `/config_dump` (endpoints included) must match
/// but for the file names and update times.
final class SidecarEncodingTests: XCTestCase {
    func testEnvoyLoadsTheSameConfigFromBinaryAndJSON() throws {
        _ = try EnvoyLocator.require()
        let fixtures = [
            "mapping-route-fields", "mapping-cluster-settings", "auth-service", "module-connection-settings",
            "mapping-tls-origination", "endpoint-argo-echo", "weights-20-30-rest",
        ]
        for fixture in fixtures {
            let scratch = try WatchScratch("encoding")
            defer { scratch.remove() }
            let yaml = try String(
                contentsOf: repositoryRoot.appendingPathComponent("fixtures/\(fixture)/input.yaml"), encoding: .utf8)
            var dumps: [String: String] = [:]
            for encoding in ["json", "protobuf"] {
                let run = try scratch.once(yaml, ["--xds-encoding", encoding])
                XCTAssertLessThanOrEqual(run.status, 1, "\(fixture) \(encoding): \(run.log)")
                let bootstrap = try String(contentsOfFile: scratch.bootstrapPath, encoding: .utf8)
                XCTAssertEqual(bootstrap.contains("/lds.pb\""), encoding == "protobuf", bootstrap)
                let envoy = try EnvoyProcess(bootstrapPath: scratch.bootstrapPath, adminPort: scratch.adminPort)
                defer { envoy.stop() }
                // Envoy reports ready once the first update of each file is in.
                let dump = try envoy.admin("/config_dump?include_eds")
                XCTAssertEqual(dump.status, 200)
                dumps[encoding] = try normalizedDump(dump.text)
                XCTAssertTrue(dumps[encoding]?.contains("dynamic_active_clusters") == true, fixture)
            }
            if dumps["json"] != dumps["protobuf"] {
                let json = (dumps["json"] ?? "").split(separator: "\n")
                let binary = (dumps["protobuf"] ?? "").split(separator: "\n")
                let first =
                    zip(json, binary).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                    ?? min(json.count, binary.count)
                XCTFail(
                    "\(fixture): Envoy's config from the binary files differs from the JSON's at line \(first):\n"
                        + "json:     \(first < json.count ? json[first] : "(end)")\n"
                        + "protobuf: \(first < binary.count ? binary[first] : "(end)")")
            }
        }
    }

    /// Switching `--xds-encoding` between runs never leaves Envoy a stale binary file: a run on JSON removes the
    /// twins, so a later run on binary writes them all again instead of taking an old one for current.
    func testSwitchingEncodingsLeavesNoStaleBinaryFile() throws {
        let scratch = try WatchScratch("switch")
        defer { scratch.remove() }
        let mapping =
            "apiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: a}\nspec: {prefix: /a/, service: a}\n"
        let routes = scratch.xds.appendingPathComponent("rds.json"),
            binary = scratch.xds.appendingPathComponent("rds.pb")
        XCTAssertEqual(try scratch.once(mapping).status, 0)
        XCTAssertEqual(
            try scratch.once(mapping.replacingOccurrences(of: "/a/", with: "/b/"), ["--xds-encoding", "json"]).status, 0
        )
        XCTAssertFalse(FileManager.default.fileExists(atPath: binary.path), "a run on JSON left rds.pb behind")
        XCTAssertEqual(try scratch.once(mapping.replacingOccurrences(of: "/a/", with: "/b/")).status, 0)
        let expected = try protobufEncoding(
            ofJSON: Array(try Data(contentsOf: routes)), as: Envoy.discoveryResponseMessage)
        XCTAssertEqual(Array(try Data(contentsOf: binary)), expected, "rds.pb is not the binary form of rds.json")
    }

    /// The config dump as sorted, indented JSON, with `.pb` file names read as `.json`, and without update times
    /// and versions (a version hashes its file's content, and the listeners and EDS clusters name other files).
    private func normalizedDump(_ text: String) throws -> String {
        func strip(_ value: Any) -> Any {
            if let object = value as? [String: Any] {
                return object.filter { $0.key != "last_updated" && $0.key != "version_info" }.mapValues(strip)
            }
            if let array = value as? [Any] { return array.map(strip) }
            if let string = value as? String, string.hasSuffix(".pb") { return String(string.dropLast(3)) + ".json" }
            return value
        }
        let object = strip(try JSONSerialization.jsonObject(with: Data(text.utf8)))
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        return String(decoding: data, as: UTF8.self)
    }
}
