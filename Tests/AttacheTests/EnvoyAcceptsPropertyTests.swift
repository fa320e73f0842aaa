import Attache
import Foundation
import XCTest

/// Envoy as the oracle: generated Mappings (and Modules, Rollouts, Endpoints) with hostile but plausible values
/// are translated in batches, and the real `envoy --mode validate` must accept every output. Every generated Mapping
/// that Attaché does not route must be named in an error.
///
/// Size and seed: `ATTACHE_ORACLE_OBJECTS` (default 1,200: the share CI runs) and `ATTACHE_ORACLE_SEED` (default a
/// fixed seed, so that CI is repeatable). `scripts/envoy-oracle N [SEED]` runs a long one. A failure prints the seed,
/// the batch, the documents Envoy refused and Envoy's words, and keeps the batch on disk.
final class EnvoyAcceptsPropertyTests: XCTestCase {
    func testEnvoyAcceptsWhateverAttacheWrites() throws {
        let envoy = try EnvoyLocator.require()
        let environment = ProcessInfo.processInfo.environment
        let total = Int(environment["ATTACHE_ORACLE_OBJECTS"] ?? "") ?? 1200
        let seed = UInt64(environment["ATTACHE_ORACLE_SEED"] ?? "") ?? 20_261_201
        let batchSize = 200
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "attache-oracle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var keepDirectory = false
        defer { if !keepDirectory { try? FileManager.default.removeItem(at: directory) } }

        var generator = HostileInputGenerator(seed: seed)
        var made = 0, batch = 0, routed = 0, refusals = 0
        while made < total {
            let count = min(batchSize, total - made)
            let before = generator.mappings.count
            let text = generator.documents(count: count, batch: batch)
            let generated = generator.mappings[before...]
            let translation = translate(
                [SourceFile(name: "batch-\(batch).yaml", text: text)], options: TranslationOptions())
            let label = "seed \(seed), batch \(batch)"
            guard translation.isComplete else {
                keepDirectory = true
                let input = directory.appendingPathComponent("batch-\(batch).yaml")
                try text.write(to: input, atomically: true, encoding: .utf8)
                XCTFail(
                    "\(label): the generated input did not parse (a generator bug): \(translation.diagnostics.first?.description ?? ""); kept at \(input.path)"
                )
                return
            }

            // The sidecar could write it: every xDS file encodes as the binary protobuf Envoy reads.
            if let refused = firstUnencodableXDSFile(translation) {
                XCTFail("\(label): \(refused.file) cannot be encoded for Envoy: \(refused.error)")
            }

            // Every generated Mapping is routed (or mirrored to, for a shadow), or an error names it (or, for a
            // shadow with nothing to mirror, the warning that says so).
            let routes = Set(
                translation.model.routes.map { "\($0.mapping.namespace)/\($0.mapping.name)" }
                    + translation.model.clusters.flatMap(\.mappings).map { "\($0.namespace)/\($0.name)" })
            let named = Set(
                translation.diagnostics.filter { $0.severity == .error || $0.code == .shadowWithoutPrimary }
                    .compactMap { $0.object.map { "\($0.namespace)/\($0.name)" } })
            for mapping in generated {
                let key = "\(mapping.namespace)/\(mapping.name)"
                if routes.contains(key) {
                    routed += 1
                } else if named.contains(key) {
                    refusals += 1
                } else {
                    XCTFail("\(label): Mapping \(key) was dropped without an error naming it")
                }
            }

            // Envoy accepts the whole output.
            if let refusal = try envoyRefusal(
                of: translation, envoy: envoy, file: directory.appendingPathComponent("batch-\(batch).json"))
            {
                keepDirectory = true
                let input = directory.appendingPathComponent("batch-\(batch).yaml")
                try text.write(to: input, atomically: true, encoding: .utf8)
                let culprits = try narrowDown(
                    documents: text.components(separatedBy: "---\n").filter { !$0.isEmpty }, envoy: envoy, in: directory
                )
                XCTFail(
                    "\(label): Envoy refused the output: \(refusal)\ninput kept at \(input.path)\ndocuments Envoy refuses on their own:\n\(culprits.joined(separator: "\n"))"
                )
                return
            }
            made += count
            batch += 1
        }
        XCTAssertGreaterThan(routed, total / 10, "the generated Mappings are so broken that the test proves little")
        print(
            "EnvoyAcceptsPropertyTests: seed \(seed): \(made) generated Mappings in \(batch) batches (plus Modules, Rollouts and Endpoints); \(routed) routed, \(refusals) refused with an error; Envoy accepted every output"
        )
    }

    /// Envoy's complaint about the bootstrap of `translation`, or nil when `envoy --mode validate` accepts it.
    private func envoyRefusal(of translation: Translation, envoy: String, file: URL) throws -> String? {
        try Data(JSONWriter.render(translation.envoy.bootstrap)).write(to: file)
        let outcome = try runProcess(
            envoy, ["--mode", "validate", "-c", file.path, "--log-level", "critical"], timeout: 120)
        guard outcome.status != 0 else { return nil }
        return outcome.output.split(separator: "\n").first { $0.contains("error") || $0.contains("rror initializing") }
            .map(String.init)
            ?? String(outcome.output.suffix(600))
    }

    /// A small set of `documents` that Envoy still refuses: halved while a half still fails, then documents left out
    /// one by one while the rest still fails (documents may depend on one another, e.g. a Rollout on its Mapping).
    private func narrowDown(documents: [String], envoy: String, in directory: URL) throws -> [String] {
        func refused(_ part: [String]) throws -> Bool {
            let text = part.map { "---\n" + $0 }.joined()
            let translation = translate([SourceFile(name: "part.yaml", text: text)], options: TranslationOptions())
            return try envoyRefusal(of: translation, envoy: envoy, file: directory.appendingPathComponent("part.json"))
                != nil
        }
        var part = documents
        while part.count > 1 {
            let half = part.count / 2
            let (first, second) = (Array(part[..<half]), Array(part[half...]))
            if try refused(first) { part = first } else if try refused(second) { part = second } else { break }
        }
        var index = 0
        while part.count > 1, index < part.count, part.count <= 64 {
            var without = part
            without.remove(at: index)
            if try refused(without) { part = without } else { index += 1 }
        }
        return part.map { String($0.prefix(2000)) }
    }
}
