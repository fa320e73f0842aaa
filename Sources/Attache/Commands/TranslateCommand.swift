import Foundation

/// Options every pipeline command accepts (translate, and the commands built on it).
let translationOptionTable: [ArgumentParser.Option] = [
    .init(name: "--listen-address", takesValue: true, help: "address of Envoy's HTTP listener (default 0.0.0.0)", valueName: "ADDR"),
    .init(name: "--listen-port", takesValue: true, help: "port of Envoy's HTTP listener (default 8080)", valueName: "PORT"),
    .init(name: "--admin-port", takesValue: true, help: "port of Envoy's admin listener on 127.0.0.1 (default 9901)", valueName: "PORT"),
    .init(name: "--ambassador-id", takesValue: true, help: "read objects whose ambassador_id names this id (default \"default\")", valueName: "ID"),
    .init(name: "--ambassador-namespace", takesValue: true, help: "namespace Ambassador runs in; bare service names resolve there (default \"default\")", valueName: "NS"),
    .init(name: "--rollout", takesValue: true, help: "preview an Argo Rollout at a step or weight instead of its status (repeatable)", valueName: "NAME=step:N|NAME=weight:W"),
]

extension TranslationOptions {
    /// Reads the shared translation options from parsed arguments.
    init(_ arguments: ArgumentParser) throws(UsageError) {
        self.init()
        listenAddress = arguments.value("--listen-address") ?? listenAddress
        guard isIPAddressLiteral(listenAddress) else {
            throw UsageError(message: "--listen-address must be an IP address (Envoy listens on addresses, not names), not \"\(listenAddress)\"")
        }
        listenPort = try arguments.port("--listen-port", default: listenPort)
        adminPort = try arguments.port("--admin-port", default: adminPort)
        ambassadorID = arguments.value("--ambassador-id") ?? ambassadorID
        ambassadorNamespace = arguments.value("--ambassador-namespace") ?? ambassadorNamespace
        for text in arguments.allValues("--rollout") {
            guard let (name, override) = RolloutOverride.parse(text) else {
                throw UsageError(message: "--rollout takes NAME=step:N or NAME=weight:W (W from 0 to 100), not \"\(text)\"")
            }
            rolloutOverrides[name] = override
        }
    }
}

/// Parses translation options alone (fixture `args` files use this).
public func parseTranslationOptions(_ arguments: [String]) throws(UsageError) -> TranslationOptions {
    let parsed = try ArgumentParser(options: translationOptionTable, arguments: arguments)
    guard parsed.positional.isEmpty else { throw UsageError(message: "unexpected argument \(parsed.positional[0])") }
    return try TranslationOptions(parsed)
}

/// The files `translate --output DIR` writes, in writing order: what routes point at is written first.
public enum OutputFiles {
    public static let clusters = "clusters.json"
    public static let routes = "routes.json"
    public static let bootstrap = "bootstrap.json"

    /// Writes one translation into `directory`, file by file, each atomically and streamed (no file is held in
    /// memory whole): endpoint files, then clusters and routes (side by side), then the bootstrap, which embeds the
    /// two files just written instead of rendering them again (in `width` shares side by side). Endpoint files that
    /// no cluster uses any more are removed.
    public static func write(_ envoy: EnvoyConfig, to directory: String, width: Int? = nil) throws(OutputError) {
        if !envoy.endpointFiles.isEmpty { try AtomicFile.prepareDirectory(directory + "/endpoints") }
        var current = Set<String>()
        for file in envoy.endpointFiles {
            let bytes = Envoy.discoveryResponse(typeURL: Envoy.clusterLoadAssignmentType, resources: [file.assignment])
            try AtomicFile.write(bytes, to: String(file.path.dropFirst("endpoints/".count)), in: directory + "/endpoints")
            current.insert(file.path)
        }
        // The two files are independent: each is rendered on its own processor.
        let written = inParallel(
            { Result { () throws(OutputError) in try stream(JSONArray(envoy.clusters), to: clusters, in: directory) } },
            { Result { () throws(OutputError) in try stream(envoy.routeConfiguration, to: routes, in: directory) } })
        let renderedFiles = [try written.0.get(), try written.1.get()]
        // The bootstrap is laid out with the two files left out, then written with them copied in, on all processors.
        let layout = JSONWriter.layout { writer in
            envoy.bootstrap.write(
                to: &writer, routeConfiguration: RenderedJSON(file: directory + "/" + routes),
                clusters: RenderedJSON(file: directory + "/" + clusters))
        }
        try EmbeddingWriter.write(
            skeleton: layout.skeleton, embeds: layout.embeds,
            files: Dictionary(uniqueKeysWithValues: renderedFiles.map { ($0.path, $0) }), to: bootstrap, in: directory,
            width: width ?? parallelWidth)
        let stale = ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/endpoints")) ?? [])
            .filter { $0.hasSuffix(".json") && !current.contains("endpoints/" + $0) }
        for name in stale { try? FileManager.default.removeItem(atPath: directory + "/endpoints/" + name) }
    }

    /// Streams `value` into `directory/name`, marking its line feeds so that the bootstrap can embed it in parts.
    private static func stream(_ value: some JSONRepresentable, to name: String, in directory: String) throws(OutputError) -> StreamedFile {
        var marks: [LineFeedMark] = []
        try AtomicFile.write(to: name, in: directory) { emit in
            try withoutActuallyEscaping(emit) { emit in
                var writer = JSONWriter(sink: emit, marksLineFeeds: true)
                value.write(to: &writer)
                try writer.finish()
                marks = writer.lineFeedMarks
            }
        }
        return StreamedFile(path: directory + "/" + name, marks: marks)
    }
}

/// `attache translate [options] PATH...`: Ambassador YAML in, Envoy v3 bootstrap JSON out.
enum TranslateCommand {
    static let options: [ArgumentParser.Option] =
        [.init(name: "--output", takesValue: true, help: "write bootstrap.json, routes.json and clusters.json into DIR instead of printing the bootstrap", valueName: "DIR")]
        + translationOptionTable
        + [
            .init(name: "--timings", takesValue: false, help: "print the time each stage took to stderr (read, parse, translate, write), with the processor time of all threads"),
            .init(name: "--help", takesValue: false, help: "show this help"),
        ]

    static let usage = """
        usage: attache translate [options] PATH...

        Reads Ambassador Mappings (CRDs, and getambassador.io/config annotations on Services) from each PATH
        (a file, a directory read recursively for *.yaml, *.yml and *.json, or - for standard input) and
        prints the Envoy v3 bootstrap that routes as Emissary-ingress would.

        Exit status: 0 translated, 1 some objects were rejected (the rest was translated), 2 nothing translated.

        options:
        \(ArgumentParser.help(options))
        """

    static func run(_ arguments: [String], io: CommandIO) -> Int32 {
        var status = ExitStatus.success
        guard let start = CommandStart.parse("translate", arguments, options: Self.options, usage: usage, io: io, exitStatus: &status) else {
            return status
        }
        let parsed = start.parsed
        let options = start.options
        guard !parsed.positional.isEmpty else {
            io.writeErr("attache translate: no input paths\n\(usage)")
            return ExitStatus.failure
        }
        let outputDirectory = parsed.value("--output")
        if let outputDirectory {
            // Fail before translating: a wrong directory is a usage problem, not something to find out last.
            do { try AtomicFile.prepareDirectory(outputDirectory) } catch {
                io.writeErr("attache translate: \(error)")
                return ExitStatus.failure
            }
        }

        var clock = StageClock()
        // The input bytes and the parsed objects (the largest things in memory) die with this closure, before the
        // routing model is built.
        let translation = { () -> Translation in
            let input = { () -> ParsedInput in
                let inputs = FileInputSource(paths: parsed.positional, readStandardInput: io.readIn).snapshot()
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
            io.out("wrote \(outputDirectory): \(translation.resources.mappings.count) mappings, \(translation.model.routeCount) routes, \(translation.model.clusters.count) clusters, \(endpointCount) endpoints")
        } else {
            io.writeOut(JSONWriter.render(translation.envoy.bootstrap, capacity: 1 << 21))
            clock.lap("write")
        }
        let exitStatus = translation.exitStatus
        // Freeing every route and cluster one by one would be the last 30 ms of a 10,000-Mapping run: another
        // thread does it, and a process that exits first leaves it to the kernel.
        releaseInBackground(consume translation)
        return exitStatus
    }
}

/// Wall-clock time per stage, the processor time all threads spent in it (more than the wall time when the stage
/// ran on several processors), and the peak RSS reached by its end, for `--timings` and the benchmark. Commands
/// own the clock; the pipeline never reads it.
struct StageClock {
    private var last = DispatchTime.now().uptimeNanoseconds
    private var lastCPU = StageClock.cpuMilliseconds(StageClock.usage())
    private(set) var laps: [(stage: String, milliseconds: Double, cpuMilliseconds: Double, peakMB: Int)] = []

    mutating func lap(_ stage: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        let usage = StageClock.usage()
        let cpu = StageClock.cpuMilliseconds(usage)
        laps.append((stage, Double(now - last) / 1_000_000, cpu - lastCPU, usage.ru_maxrss / 1024))
        last = now
        lastCPU = cpu
    }

    private static func usage() -> rusage {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage
    }

    /// User plus system time of every thread so far.
    private static func cpuMilliseconds(_ usage: rusage) -> Double {
        func ms(_ t: timeval) -> Double { Double(t.tv_sec) * 1000 + Double(t.tv_usec) / 1000 }
        return ms(usage.ru_utime) + ms(usage.ru_stime)
    }

    var summary: String {
        laps.map {
            "\($0.stage) \(String(format: "%.1f", $0.milliseconds)) ms (cpu \(String(format: "%.0f", $0.cpuMilliseconds)), peak \($0.peakMB) MB)"
        }.joined(separator: ", ")
    }
}
