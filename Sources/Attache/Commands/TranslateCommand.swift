import Foundation

/// `attache translate [options] PATH...`: Ambassador YAML in, Envoy v3 bootstrap JSON out.
enum TranslateCommand {
    static let options: [ArgumentParser.Option] =
        [
            .init(
                name: "--output", takesValue: true,
                help: "write bootstrap.json, routes.json and clusters.json into DIR instead of printing the bootstrap",
                valueName: "DIR")
        ]
        + envoyOptionTable + routingOptionTable + kubernetesOptionTable + [strictOption]
        + [
            .init(
                name: "--timings", takesValue: false,
                help:
                    "print the time each stage took to stderr (read, parse, translate, write), with the processor time of all threads"
            ),
            .init(name: "--help", takesValue: false, help: "show this help"),
        ]

    static let usage = """
        usage: attache translate [options] PATH...

        Reads Ambassador Mappings (CRDs, and getambassador.io/config annotations on Services) from each PATH
        (a file, a directory read recursively for *.yaml, *.yml and *.json, or - for standard input) and
        prints the Envoy v3 bootstrap that routes as Emissary-ingress would.

        Exit status: 0 translated, 1 some objects were rejected (the rest was translated; with --strict also on any
        warning), 2 nothing translated.

        options:
        \(ArgumentParser.help(options))
        """

    static func run(_ arguments: [String], io: CommandIO) -> Int32 {
        var status = ExitStatus.success
        guard
            let start = CommandStart.parse(
                "translate", arguments, options: Self.options, usage: usage, io: io, exitStatus: &status)
        else {
            return status
        }
        let parsed = start.parsed
        var options = start.options
        let outputDirectory = parsed.value("--output")
        guard
            let source = oneShotInputSource(
                "translate", parsed, paths: parsed.positional, excluding: outputDirectory.map { [$0] } ?? [], io: io,
                exitStatus: &status)
        else { return status }
        defer { source.stopIfKubernetes() }
        if let outputDirectory {
            // Fail before translating: a wrong directory is a usage problem, not something to find out last.
            do { try AtomicFile.prepareDirectory(outputDirectory) } catch {
                io.writeErr("attache translate: \(error)")
                return ExitStatus.failure
            }
            // Envoy reads certificate files by path: absolute, so that it may run from any directory.
            let absolute =
                outputDirectory.hasPrefix("/")
                ? outputDirectory : FileManager.default.currentDirectoryPath + "/" + outputDirectory
            options.envoy.secretsDirectory = absolute + "/" + OutputFiles.secrets
        }

        var clock = StageClock()
        // The input bytes and the parsed objects (the largest things in memory) die with this closure, before the
        // routing model is built.
        let translation = { () -> Translation in
            let input = { () -> ParsedInput in
                let inputs = source.snapshot()
                clock.lap("read")
                return parseSources(inputs.sources, loadDiagnostics: inputs.diagnostics, options: options)
            }()
            clock.lap("parse")
            return translateObjects(input, options: options)
        }()
        clock.lap("translate")
        for diagnostic in translation.diagnostics { io.writeErr(diagnostic.description) }
        guard translation.isComplete else { return ExitStatus.failure }
        defer {
            if parsed.has("--timings") { io.writeErr("timings: " + clock.summary) }
        }

        if let outputDirectory {
            do {
                try OutputFiles.write(translation.envoy, to: outputDirectory)
            } catch {
                io.writeErr("attache translate: \(error)")
                return ExitStatus.failure
            }
            clock.lap("write")
            let endpointCount = translation.model.clusters.reduce(0) { $0 + $1.members.count }
            io.out(
                "wrote \(outputDirectory): \(translation.resources.mappings.count) mappings, \(translation.model.routeCount) routes, \(translation.model.clusters.count) clusters, \(endpointCount) endpoints"
            )
        } else {
            if !translation.envoy.secrets.isEmpty {
                io.writeErr(
                    "attache translate: warning: \(translation.envoy.secrets.count) certificate(s) are not printed; the bootstrap reads them from \(options.envoy.secretsDirectory)/ (use --output DIR to write them there)"
                )
            }
            io.writeOut(JSONWriter.render(translation.envoy.bootstrap, capacity: 1 << 21))
            clock.lap("write")
        }
        let exitStatus = translation.exitStatus(strict: parsed.has("--strict"))
        // Freeing every route and cluster one by one is slow at the end of a large run: another thread does it,
        // and a process that exits first leaves it to the kernel.
        releaseInBackground(consume translation)
        return exitStatus
    }
}
