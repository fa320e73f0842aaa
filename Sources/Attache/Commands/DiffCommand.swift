import Foundation

/// `attache diff OLD NEW` (or `--old PATH... --new PATH...`): what a change does to routing.
enum DiffCommand {
    static let options: [ArgumentParser.Option] =
        [
            .init(
                name: "--old", takesValue: true, help: "an input path of the old side (repeatable)", valueName: "PATH"),
            .init(
                name: "--new", takesValue: true, help: "an input path of the new side (repeatable)", valueName: "PATH"),
            .init(name: "--format", takesValue: true, help: "text (default) or json", valueName: "FORMAT"),
        ]
        + routingOptionTable + Array(kubernetesOptionTable.dropFirst())
        + [.init(name: "--help", takesValue: false, help: "show this help")]

    static let usage = """
        usage: attache diff [options] OLD NEW
               attache diff [options] --old PATH... --new PATH...

        Shows what Envoy will do differently: routes added, removed, or routing differently (weights as
        `svc-a 70% → 40%`, a different Mapping winning, rewrite, Host rewrite, timeout and header changes), clusters
        added, removed or changed field by field, endpoint churn, and diagnostics only one side has. Each side is
        input paths (files, directories, -, or <(git show main:deploy/mappings.yaml)), or Envoy config Attaché wrote:
        a `translate --output` or `watch --xds-dir` directory, a bootstrap.json, routes.json or clusters.json, or an
        xDS file (rds.json, cds.json); a file with routes only (or clusters only) is compared on that part. A side
        given as `--kubernetes` (`--old --kubernetes --new deploy/`) is the live cluster (see --kubeconfig).
        Exit status as diff(1): 0 same, 1 different, 2 trouble.

        options:
        \(ArgumentParser.help(options))
        """

    static func run(_ arguments: [String], io: CommandIO) -> Int32 {
        var status = ExitStatus.success
        guard
            let start = CommandStart.parse(
                "diff", arguments, options: Self.options, usage: usage, io: io, exitStatus: &status)
        else {
            return status
        }
        let parsed = start.parsed
        let options = start.options
        var oldPaths = parsed.allValues("--old"), newPaths = parsed.allValues("--new")
        if oldPaths.isEmpty && newPaths.isEmpty && parsed.positional.count == 2 {
            oldPaths = [parsed.positional[0]]
            newPaths = [parsed.positional[1]]
        }
        guard !oldPaths.isEmpty, !newPaths.isEmpty,
            oldPaths.isEmpty || parsed.positional.isEmpty || parsed.positional.count == 2
        else {
            return io.usageError("diff", "give OLD and NEW, or --old PATH... and --new PATH...")
        }
        let format = parsed.value("--format") ?? "text"
        guard format == "text" || format == "json" else {
            return io.usageError("diff", "--format is text or json, not \"\(format)\"")
        }
        guard let old = side(oldPaths, options: options, io: io, label: "old", parsed: parsed),
            let new = side(newPaths, options: options, io: io, label: "new", parsed: parsed)
        else {
            return ExitStatus.failure
        }
        // Written config carries no diagnostics: compare them only when both sides are inputs. A side that holds
        // only routes (or only clusters) is compared on that part alone.
        let compareDiagnostics = old.diagnostics != nil && new.diagnostics != nil
        var (oldModel, newModel) = (old.config.model, new.config.model)
        if !old.config.hasRoutes || !new.config.hasRoutes {
            oldModel.groups = []
            newModel.groups = []
        }
        if !old.config.hasClusters || !new.config.hasClusters {
            oldModel.clusters = []
            newModel.clusters = []
        }
        if !old.config.hasRoutes && !new.config.hasClusters || !old.config.hasClusters && !new.config.hasRoutes {
            io.writeErr("attache diff: one side holds only routes and the other only clusters: nothing to compare")
            return ExitStatus.failure
        }
        let diff = diffRouting(
            old: oldModel, new: newModel, oldDiagnostics: compareDiagnostics ? old.diagnostics ?? [] : [],
            newDiagnostics: compareDiagnostics ? new.diagnostics ?? [] : [])
        if format == "json" {
            io.writeOut(JSONWriter.render(diff.json))
        } else {
            io.out(diff.text)
        }
        return diff.isEmpty ? ExitStatus.success : 1
    }

    /// One side: Envoy config Attaché wrote, read back (then it carries no diagnostics), or inputs translated.
    static func side(
        _ paths: [String], options: TranslationOptions, io: CommandIO, label: String, parsed: ArgumentParser
    ) -> (config: ReadBackConfig, diagnostics: [Diagnostic]?)? {
        if paths.count == 1 {
            do {
                if let config = try readEnvoyConfig(paths[0]) { return (config, nil) }
            } catch {
                io.writeErr("attache diff: \(error)")
                return nil
            }
        }
        var source: InputSource = FileInputSource(paths: paths, readStandardInput: io.readIn)
        if paths == ["--kubernetes"] {
            // The live cluster: the kubeconfig options apply to it.
            var withFlag = parsed
            withFlag.setFlag("--kubernetes")
            do {
                guard
                    let kubernetes = try kubernetesSource(
                        withFlag, syncTimeout: 60, say: standardErrorSay(io, command: "diff"))
                else { return nil }
                source = kubernetes
            } catch {
                io.writeErr("attache diff: \(error.message)")
                return nil
            }
        }
        defer { (source as? KubernetesInputSource)?.stop() }
        let inputs = source.snapshot()
        let translation = translate(inputs.sources, options: options, loadDiagnostics: inputs.diagnostics)
        guard translation.isComplete else {
            for diagnostic in translation.diagnostics where diagnostic.severity == .error {
                io.writeErr("\(label): \(diagnostic)")
            }
            io.writeErr("attache diff: the \(label) side could not be translated")
            return nil
        }
        return (ReadBackConfig(model: translation.model, hasRoutes: true, hasClusters: true), translation.diagnostics)
    }
}
