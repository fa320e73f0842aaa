// Commands: thin fronts over the pipeline in Translation.swift. Argument parsing, help and exit statuses live
// here, in the library, so that tests call commands directly; `main.swift` only hands over the arguments.

/// The `attache` command line.
public enum AttacheCLI {
    static let usage = """
        usage: attache COMMAND [options] ...

        Attaché reads Ambassador/Emissary-ingress routing config (Mapping CRDs and getambassador.io/config
        annotations) and writes the Envoy v3 config that routes exactly as Emissary would.

        commands:
          translate PATH...      print (or --output DIR: write) the Envoy bootstrap for the Mappings in PATH
          rollout plan PATH...   show each Argo Rollout's steps and canary weights (--output DIR: config per step)
          watch PATH... --xds-dir DIR   sidecar: keep Envoy's file-based xDS config current as the inputs change
          explain PATH... [METHOD] URL [-H 'NAME: VALUE']   where one request goes, and why
          diff OLD NEW           what a change does to routing (weights, routes, clusters, endpoints)

        Run `attache COMMAND --help` (or `attache help COMMAND`) for a command's options, `attache --version` for
        the version.
        """

    /// This build's version (`attacheVersion`).
    public static var version: String { attacheVersion }

    static let commands = ["translate", "rollout", "watch", "explain", "diff"]

    /// Runs one command line (without the program name) and returns the exit status.
    public static func main(_ arguments: [String], io: CommandIO = .standard) -> Int32 {
        guard let command = arguments.first else {
            io.writeErr(usage)
            return ExitStatus.failure
        }
        let rest = Array(arguments.dropFirst())
        switch command {
        case "translate":
            return TranslateCommand.run(rest, io: io)
        case "rollout":
            return RolloutCommand.run(rest, io: io)
        case "watch":
            return WatchCommand.run(rest, io: io)
        case "explain":
            return ExplainCommand.run(rest, io: io)
        case "diff":
            return DiffCommand.run(rest, io: io)
        case "help" where rest.count == 1 && commands.contains(rest[0]):
            // `attache help rollout` shows `rollout plan`'s help: plan is rollout's only subcommand.
            return main(rest[0] == "rollout" ? ["rollout", "plan", "--help"] : [rest[0], "--help"], io: io)
        case "--help", "-h", "help":
            io.out(usage)
            return ExitStatus.success
        case "--version", "version":
            io.out("attache \(version)")
            return ExitStatus.success
        default:
            let hint =
                closestName(to: command, among: commands, maximumDistance: 3).map { " (did you mean \($0)?)" } ?? ""
            io.writeErr("attache: unknown command \(command)\(hint)\nrun `attache --help` for usage")
            return ExitStatus.failure
        }
    }
}
