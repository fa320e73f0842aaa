import Foundation

/// `attache rollout plan [options] PATH...`: each Argo Rollout's steps with the canary weight at each, and which
/// step is current; with `--output DIR`, the Envoy config of every step in `DIR/<namespace>-<rollout>/step-N/` (the last one,
/// N = number of steps, is the promoted end state) so that a reviewer can diff step against step.
enum RolloutCommand {
    static let options: [ArgumentParser.Option] =
        [
            .init(
                name: "--output", takesValue: true,
                help: "write the Envoy config of every step into DIR/<namespace>-<rollout>/step-N/", valueName: "DIR")
        ]
        + envoyOptionTable + routingOptionTable + kubernetesOptionTable + [strictOption]
        + [.init(name: "--help", takesValue: false, help: "show this help")]

    static let usage = """
        usage: attache rollout plan [options] PATH...

        For each Argo Rollout that routes through Ambassador, prints its steps: index, step, canary and stable
        weight, and whether it pauses, marking the current step (from status, or --rollout NAME=step:N).

        options:
        \(ArgumentParser.help(options))
        """

    static func run(_ arguments: [String], io: CommandIO) -> Int32 {
        if arguments.first == "--help" || arguments.first == "-h" {
            io.out(usage)
            return ExitStatus.success
        }
        guard arguments.first == "plan" else {
            return io.usageError("rollout", "the only subcommand is `plan`")
        }
        var status = ExitStatus.success
        guard
            let start = CommandStart.parse(
                "rollout plan", Array(arguments.dropFirst()), options: Self.options, usage: usage, io: io,
                exitStatus: &status)
        else {
            return status
        }
        let parsed = start.parsed
        let options = start.options
        guard
            let source = oneShotInputSource(
                "rollout plan", parsed, paths: parsed.positional,
                excluding: parsed.value("--output").map { [$0] } ?? [], io: io, exitStatus: &status)
        else { return status }
        defer { source.stopIfKubernetes() }
        let (translation, inputs) = loadAndTranslate(source, options: options, io: io)
        guard translation.isComplete else { return ExitStatus.failure }
        let rollouts = translation.resources.rollouts
        if rollouts.isEmpty { io.out("no Argo Rollout in the input routes through Ambassador") }

        for rollout in rollouts {
            let qualified = "\(rollout.reference.namespace)/\(rollout.reference.name)"
            let override = options.rolloutOverrides[qualified] ?? options.rolloutOverrides[rollout.reference.name]
            // A fully promoted Rollout is at no step: its canary takes nothing until its pod template changes.
            let current =
                override == nil && (rollout.aborted || rollout.isFullyPromoted) ? nil : rollout.currentStep(override)
            io.out(
                "Rollout \(qualified): mappings \(rollout.mappings.joined(separator: ", ")); stable \(rollout.stableService ?? "?"), canary \(rollout.canaryService ?? "?")"
            )
            io.out(
                "  state: \(stateDescription(rollout, override: override)), canary weight now \(rollout.canaryWeight(override))%"
            )
            // The step column is as wide as the widest step of this Rollout (a header route's match is long).
            let stepTexts = rollout.steps.map(describe) + ["(end: promoted)"]
            let width = max(28, stepTexts.map(\.count).max() ?? 0)
            let pauses = rollout.steps.map { step -> String in
                if case .pause(let duration) = step { return duration ?? "until resumed" }
                return ""
            }
            let pauseWidth = max(5, pauses.map(\.count).max() ?? 0)
            let header = [
                "   ", "  ", "step".padding(toLength: width, withPad: " ", startingAt: 0), "canary", "stable",
                "pause".padding(toLength: pauseWidth, withPad: " ", startingAt: 0), "header routes",
            ]
            io.out(header.joined(separator: " "))
            for index in 0...rollout.steps.count {
                let weight = rollout.canaryWeight(.step(index))
                let pause = index < pauses.count ? pauses[index] : ""
                let headers = rollout.headerRoutes(.step(index)).map(\.name).joined(separator: ", ")
                let columns = [
                    index == current ? "  →" : "   ", String(index).padding(toLength: 2, withPad: " ", startingAt: 0),
                    stepTexts[index].padding(toLength: width, withPad: " ", startingAt: 0),
                    " " + String(weight).leftPadded(4) + "%", " " + String(100 - weight).leftPadded(4) + "%",
                    pause.padding(toLength: pauseWidth, withPad: " ", startingAt: 0), headers,
                ]
                io.out(
                    columns.joined(separator: " ").replacingOccurrences(
                        of: "\\s+$", with: "", options: .regularExpression))
            }
            if let directory = parsed.value("--output") {
                for index in 0...rollout.steps.count {
                    var stepOptions = options
                    stepOptions.rolloutOverrides = [qualified: .step(index)]
                    let stepTranslation = translate(
                        inputs.sources, options: stepOptions, loadDiagnostics: inputs.diagnostics)
                    let stepDirectory =
                        "\(directory)/\(rollout.reference.namespace)-\(rollout.reference.name)/step-\(index)"
                    do {
                        try AtomicFile.prepareDirectory(stepDirectory)
                        try OutputFiles.write(stepTranslation.envoy, to: stepDirectory)
                    } catch {
                        io.writeErr("attache rollout plan: \(error)")
                        return ExitStatus.failure
                    }
                }
                io.out(
                    "  wrote \(directory)/\(rollout.reference.namespace)-\(rollout.reference.name)/step-0 … step-\(rollout.steps.count)"
                )
            }
        }
        return translation.exitStatus(strict: parsed.has("--strict"))
    }

    static func describe(_ step: Rollout.Step) -> String {
        switch step {
        case .setWeight(let w): return "setWeight: \(w)"
        case .pause(let duration): return "pause" + (duration.map { ": \($0)" } ?? "")
        case .setHeaderRoute(let name, let match):
            if match.isEmpty { return "setHeaderRoute: \(name) (remove)" }
            return "setHeaderRoute: \(name) "
                + match.map { "\($0.header) \($0.kind.rawValue) \($0.value)" }.joined(separator: ", ")
        case .other(let kind): return kind
        }
    }

    static func stateDescription(_ rollout: Rollout, override: RolloutOverride?) -> String {
        switch override {
        case .step(let n)?: return "previewing step \(n) (--rollout)"
        case .weight(let w)?: return "previewing weight \(w) (--rollout)"
        case nil:
            if rollout.aborted { return "aborted" }
            if rollout.stableRS == nil, rollout.currentPodHash == nil {
                return "no status (never reconciled): Argo deploys it as a first release, fully promoted"
            }
            if rollout.isFullyPromoted { return "fully promoted" }
            return "at step \(rollout.currentStepIndex ?? 0)"
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
