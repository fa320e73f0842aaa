import Foundation

/// Where the Envoy that runs the output listens: for the commands that write Envoy config (translate, rollout plan,
/// watch).
let envoyOptionTable: [ArgumentParser.Option] = [
    .init(
        name: "--listen-address", takesValue: true, help: "address of Envoy's HTTP listener (default 0.0.0.0)",
        valueName: "ADDR"),
    .init(
        name: "--listen-port", takesValue: true, help: "port of Envoy's HTTP listener (default 8080)", valueName: "PORT"
    ),
    .init(
        name: "--admin-port", takesValue: true, help: "port of Envoy's admin listener on 127.0.0.1 (default 9901)",
        valueName: "PORT"),
]

/// For the commands CI runs as gates (translate, rollout plan).
let strictOption = ArgumentParser.Option(
    name: "--strict", takesValue: false, help: "exit 1 on any warning too, not only on rejected objects (for CI)")

/// What decides the routing: every pipeline command accepts these.
let routingOptionTable: [ArgumentParser.Option] = [
    .init(
        name: "--ambassador-id", takesValue: true,
        help: "read objects whose ambassador_id names this id (default \"default\")", valueName: "ID"),
    .init(
        name: "--ambassador-namespace", takesValue: true,
        help: "namespace Ambassador runs in; bare service names resolve there (default \"default\")", valueName: "NS"),
    .init(
        name: "--rollout", takesValue: true,
        help: "preview an Argo Rollout at a step or weight instead of its status (repeatable)",
        valueName: "NAME=step:N|NAME=weight:W"),
]

extension TranslationOptions {
    /// Reads the shared translation options from parsed arguments.
    init(_ arguments: ArgumentParser) throws(UsageError) {
        self.init()
        envoy.listenAddress = arguments.value("--listen-address") ?? envoy.listenAddress
        guard isIPAddressLiteral(envoy.listenAddress) else {
            throw UsageError(
                message:
                    "--listen-address must be an IP address (Envoy listens on addresses, not names), not \"\(envoy.listenAddress)\""
            )
        }
        envoy.listenPort = try arguments.port("--listen-port", default: envoy.listenPort)
        envoy.adminPort = try arguments.port("--admin-port", default: envoy.adminPort)
        installation.id = arguments.value("--ambassador-id") ?? installation.id
        installation.namespace = arguments.value("--ambassador-namespace") ?? installation.namespace
        for text in arguments.allValues("--rollout") {
            guard let (name, override) = RolloutOverride.parse(text) else {
                throw UsageError(
                    message: "--rollout takes NAME=step:N or NAME=weight:W (W from 0 to 100), not \"\(text)\"")
            }
            rolloutOverrides[name] = override
        }
    }
}

/// Parses translation options alone (fixture `args` files use this).
public func parseTranslationOptions(_ arguments: [String]) throws(UsageError) -> TranslationOptions {
    let parsed = try ArgumentParser(options: envoyOptionTable + routingOptionTable, arguments: arguments)
    guard parsed.positional.isEmpty else { throw UsageError(message: "unexpected argument \(parsed.positional[0])") }
    return try TranslationOptions(parsed)
}

/// The start every pipeline command shares: its options parsed (the shared translation options included), and
/// `--help` and usage errors answered. nil means the command is finished and `exitStatus` says how.
struct CommandStart {
    let parsed: ArgumentParser
    let options: TranslationOptions

    static func parse(
        _ name: String, _ arguments: [String], options table: [ArgumentParser.Option], usage: String, io: CommandIO,
        exitStatus: inout Int32
    ) -> CommandStart? {
        do {
            let parsed = try ArgumentParser(options: table, arguments: arguments)
            let options = try TranslationOptions(parsed)
            if parsed.has("--help") {
                io.out(usage)
                exitStatus = ExitStatus.success
                return nil
            }
            return CommandStart(parsed: parsed, options: options)
        } catch {
            exitStatus = io.usageError(name, error.message)
            return nil
        }
    }
}

extension CommandIO {
    /// A usage error of `command` (`watch`, `rollout plan`): the message and where help is, on standard error.
    /// Returns the exit status for it.
    func usageError(_ command: String, _ message: String) -> Int32 {
        writeErr("attache \(command): \(message)\nrun `attache \(command) --help` for usage")
        return ExitStatus.failure
    }
}

/// Takes a snapshot of `source`, runs the pipeline and prints its diagnostics: the middle of rollout and explain.
/// The snapshot comes back too, for commands that translate it again with other options.
func loadAndTranslate(_ source: InputSource, options: TranslationOptions, io: CommandIO) -> (
    translation: Translation, inputs: InputSnapshot
) {
    let inputs = source.snapshot()
    let translation = translate(inputs.sources, options: options, loadDiagnostics: inputs.diagnostics)
    for diagnostic in translation.diagnostics { io.writeErr(diagnostic.description) }
    return (translation, inputs)
}
