// Fuzzing: the whole translate pipeline under libFuzzer.
//
// Built by scripts/fuzz with `-sanitize=fuzzer,address -D FUZZING`: libFuzzer calls `LLVMFuzzerTestOneInput` and,
// for the structure target, `LLVMFuzzerCustomMutator`. Built normally (as every `swift build` does), this is a
// replay tool: `attache-fuzz FILE...` runs the same checks on saved inputs, which is how crashes become
// regression tests.

import Attache
import Foundation
import YAML

/// Runs one input through every stage and checks what must always hold. A violated check traps, which libFuzzer
/// reports as a crash with the input that caused it.
func fuzzOneInput(_ bytes: [UInt8]) {
    let sources = [SourceFile(name: "fuzz.yaml", bytes: bytes)]
    var options = TranslationOptions()
    options.installation.namespace = "default"
    let translation = translate(sources, options: options)
    // Exit status is one of the documented three.
    precondition((0...2).contains(translation.exitStatus))
    // Nothing translated means nothing routed; an error-free run has no error diagnostics.
    if !translation.isComplete { precondition(translation.model.groups.isEmpty) }
    // The output is valid JSON, and the same input gives the same bytes.
    let bootstrap = JSONWriter.render(translation.envoy.bootstrap)
    precondition((try? JSONSerialization.jsonObject(with: Data(bootstrap))) != nil, "bootstrap is not valid JSON")
    let again = JSONWriter.render(translate(sources, options: options).envoy.bootstrap)
    precondition(again == bootstrap, "output is not deterministic")
    // Every route points at a cluster that exists (a redirect at none), and so does every mirror; weights are
    // thresholds within 0...100.
    let clusters = Set(translation.model.clusters.map(\.name))
    // With Listeners and Hosts, the virtual hosts' routes too; and every TLS chain's certificate is delivered.
    let edgeRoutes =
        translation.model.edge?.listeners.flatMap(\.chains).flatMap(\.virtualHosts).flatMap(\.routes) ?? []
    let certificates = Set(translation.envoy.secrets.map(\.name))
    for chain in translation.model.edge?.listeners.flatMap(\.chains) ?? [] {
        if let tls = chain.tls {
            precondition(certificates.contains(tls.certificate), "TLS chain without its certificate")
        }
    }
    for route in translation.model.routes + edgeRoutes {
        if route.redirect != nil {
            precondition(route.cluster.isEmpty, "redirect route with a cluster")
        } else {
            precondition(clusters.contains(route.cluster), "route to a missing cluster")
        }
        if let mirror = route.settings.mirror {
            precondition(clusters.contains(mirror.cluster), "mirror to a missing cluster")
        }
        precondition((0...100).contains(route.cumulativeWeight))
    }
    // The sidecar can write it: every xDS file encodes as the binary protobuf Envoy reads.
    if let refused = firstUnencodableXDSFile(translation) {
        preconditionFailure("\(refused.file) cannot be encoded for Envoy: \(refused.error)")
    }
    for diagnostic in translation.diagnostics { _ = diagnostic.description }
}

#if FUZZING

    /// libFuzzer's entry (its own `main`, from the runtime archive, calls it when that `main` is the one linked).
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        fuzzOneInput(size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : [])
        return 0
    }

    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// SwiftPM gives an executable its own entry point, so libFuzzer's `main` is not linked in; this one hands the
    /// command line to libFuzzer's driver.
    @main
    struct FuzzMain {
        static func main() {
            var argc = CommandLine.argc
            var argv = CommandLine.unsafeArgv
            exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzTestOneInput(data, size) })
        }
    }

    @_silgen_name("LLVMFuzzerMutate")
    func LLVMFuzzerMutate(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int) -> Int

    /// The structure target (ATTACHE_FUZZ_TARGET=structure) mutates the YAML tree instead of bytes; the bytes target
    /// leaves mutation to libFuzzer.
    @_cdecl("LLVMFuzzerCustomMutator")
    public func fuzzCustomMutator(
        _ data: UnsafeMutablePointer<UInt8>?, _ size: Int, _ maxSize: Int, _ seed: CUnsignedInt
    ) -> Int {
        guard let data else { return 0 }
        guard ProcessInfo.processInfo.environment["ATTACHE_FUZZ_TARGET"] == "structure" else {
            return LLVMFuzzerMutate(data, size, maxSize)
        }
        var generator = SeededGenerator(seed: UInt64(seed))
        let input = Array(UnsafeBufferPointer(start: data, count: size))
        guard let mutated = mutateStructure(input, using: &generator), mutated.count <= maxSize else {
            return LLVMFuzzerMutate(data, size, maxSize)
        }
        mutated.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: mutated.count) }
        return mutated.count
    }

#else

    @main
    struct Replay {
        /// `attache-fuzz FILE...`: runs the fuzz checks on saved inputs (a crash here is a regression).
        static func main() {
            var count = 0
            for path in CommandLine.arguments.dropFirst() {
                guard let data = FileManager.default.contents(atPath: path) else {
                    FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                    exit(2)
                }
                fuzzOneInput(Array(data))
                if ProcessInfo.processInfo.environment["ATTACHE_FUZZ_MUTATE"] == "1" {
                    var generator = SeededGenerator(seed: UInt64(count + 1))
                    for _ in 0..<50 {
                        if let mutated = mutateStructure(Array(data), using: &generator) { fuzzOneInput(mutated) }
                    }
                }
                count += 1
            }
            print("replayed \(count) input(s)")
        }
    }

#endif
